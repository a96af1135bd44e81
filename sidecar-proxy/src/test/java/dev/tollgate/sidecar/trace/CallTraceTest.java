package dev.tollgate.sidecar.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.sidecar.metering.CallRecord;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallTraceTest {

  @Test
  void aStepTheCallDidNotWaitForEndsWithTheCall() {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    Tracing tracing =
        Tracing.with(spans, TracingSettings.to(URI.create("http://127.0.0.1:1/v1/traces")));
    try {
      CallTrace call = tracing.call(new DefaultHttpHeaders(), "chat");
      CallTrace.Step classifier = call.step("tollgate.classifier");
      CallTrace.Step lookup = call.step("tollgate.cache.lookup");
      lookup.set("tollgate.cache.hit", false).end();
      lookup.end(); // once only
      call.end(
          CallRecord.builder().requestId("r").route("r").outcome(499, null).build(), null, null);
      tracing.flush(2000);
      List<SpanData> done = spans.getFinishedSpanItems();
      assertThat(done)
          .extracting(SpanData::getName)
          .containsExactlyInAnyOrder("tollgate.cache.lookup", "tollgate.classifier", "chat");
      SpanData abandoned =
          done.stream().filter(s -> s.getName().equals("tollgate.classifier")).findFirst().get();
      assertThat(abandoned.getAttributes().get(AttributeKey.booleanKey("tollgate.step.abandoned")))
          .isTrue();
      classifier.end(); // the late answer: nothing more is exported
      tracing.flush(2000);
      assertThat(spans.getFinishedSpanItems()).hasSize(3);
    } finally {
      tracing.close();
    }
  }

  @Test
  void offItRecordsNothingAndPassesTheApplicationsContextOn() {
    HttpHeaders in = new DefaultHttpHeaders();
    String parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    in.set("traceparent", parent);
    CallTrace call = Tracing.off().call(in, "chat");
    assertThat(call.recording()).isFalse();
    assertThat(call.step("x")).isSameAs(CallTrace.Step.NONE);
    HttpHeaders out = new DefaultHttpHeaders();
    call.attemptStarted(1, false, "openai", "c", "m", URI.create("https://api.openai.com/v1"));
    call.inject(out);
    assertThat(out.get("traceparent")).isEqualTo(parent);
    HttpHeaders none = new DefaultHttpHeaders();
    Tracing.off().call(new DefaultHttpHeaders(), "chat").inject(none);
    assertThat(none.contains("traceparent")).isFalse();
  }
}
