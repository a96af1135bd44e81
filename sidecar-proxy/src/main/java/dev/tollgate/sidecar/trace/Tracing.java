package dev.tollgate.sidecar.trace;

import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's OpenTelemetry traces: one tracer provider per process, exporting through a {@link
 * BatchSpanProcessor} whose queue is bounded, so a slow or absent collector costs dropped spans
 * (counted, {@link #droppedSpans()}), never a wait on the event loop. When tracing is off, calls
 * get a trace that records nothing and only passes the application's W3C trace context on to the
 * provider.
 */
public final class Tracing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
  static final String SCOPE = "dev.tollgate.sidecar";
  private static final Tracing OFF = new Tracing(null, null, null, TracingSettings.off());

  static final TextMapGetter<HttpHeaders> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
          return carrier.names();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  private final SdkTracerProvider provider;
  private final SdkMeterProvider meters;
  private final DroppedSpans dropped;
  private final Tracer tracer;
  private final TracingSettings settings;

  private Tracing(
      SdkTracerProvider provider,
      SdkMeterProvider meters,
      DroppedSpans dropped,
      TracingSettings settings) {
    this.provider = provider;
    this.meters = meters;
    this.dropped = dropped;
    this.settings = settings;
    this.tracer = provider == null ? null : provider.get(SCOPE);
  }

  /** No spans; the application's trace context still reaches the provider. */
  public static Tracing off() {
    return OFF;
  }

  /** Traces exported over OTLP/HTTP as {@code settings} say, or {@link #off()} without endpoint. */
  public static Tracing start(TracingSettings settings) {
    if (!settings.enabled()) {
      return OFF;
    }
    OtlpHttpSpanExporterBuilder b =
        OtlpHttpSpanExporter.builder()
            .setEndpoint(settings.endpoint().toString())
            .setTimeout(settings.exportTimeout());
    settings.headers().forEach(b::addHeader);
    return with(b.build(), settings);
  }

  /** Traces handed to {@code exporter} (tests: an in-memory exporter) through the bounded batch. */
  public static Tracing with(SpanExporter exporter, TracingSettings settings) {
    DroppedSpans dropped = new DroppedSpans();
    SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(dropped).build();
    BatchSpanProcessor batch =
        BatchSpanProcessor.builder(exporter)
            .setMaxQueueSize(settings.maxQueueSize())
            .setMaxExportBatchSize(settings.maxExportBatchSize())
            .setScheduleDelay(settings.scheduleDelay())
            .setExporterTimeout(settings.exportTimeout())
            .setMeterProvider(meters)
            .build();
    AttributesBuilder resource = Attributes.builder();
    settings.resource().forEach((k, v) -> resource.put(AttributeKey.stringKey(k), v));
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(Resource.empty().merge(Resource.create(resource.build())))
            .setSampler(sampler(settings))
            .setSpanLimits(
                SpanLimits.builder()
                    .setMaxNumberOfAttributes(64)
                    .setMaxNumberOfEvents(16)
                    .setMaxAttributeValueLength(Math.max(1024, settings.contentMaxChars() * 2))
                    .build())
            .addSpanProcessor(batch)
            .build();
    return new Tracing(provider, meters, dropped, settings);
  }

  static Sampler sampler(TracingSettings s) {
    return switch (s.sampler()) {
      case "always_on" -> Sampler.alwaysOn();
      case "always_off" -> Sampler.alwaysOff();
      case "traceidratio" -> Sampler.traceIdRatioBased(s.ratio());
      case "parentbased_always_off" -> Sampler.parentBased(Sampler.alwaysOff());
      case "parentbased_traceidratio" -> Sampler.parentBased(Sampler.traceIdRatioBased(s.ratio()));
      default -> Sampler.parentBased(Sampler.alwaysOn());
    };
  }

  public boolean enabled() {
    return provider != null;
  }

  public TracingSettings settings() {
    return settings;
  }

  /**
   * The trace of one call whose application sent {@code incoming}: a child of the application's W3C
   * trace context when it sent one.
   */
  public CallTrace call(HttpHeaders incoming, String operation) {
    Context parent = parent(incoming);
    if (tracer == null) {
      return CallTrace.untraced(parent);
    }
    return new CallTrace(tracer, parent, operation, settings);
  }

  /**
   * The trace of a passthrough call ({@code method} to {@code path}, whose first segment after the
   * version is {@code operation}) whose application sent {@code incoming}.
   */
  public PassthroughTrace passthrough(
      HttpHeaders incoming, String method, String operation, String path) {
    int q = path.indexOf('?');
    return PassthroughTrace.start(
        tracer, parent(incoming), method, operation, q < 0 ? path : path.substring(0, q));
  }

  private static Context parent(HttpHeaders incoming) {
    return incoming != null && incoming.contains("traceparent")
        ? W3CTraceContextPropagator.getInstance().extract(Context.root(), incoming, HEADERS)
        : Context.root();
  }

  /** Spans dropped because the export queue was full, since the sidecar started. */
  public long droppedSpans() {
    return dropped == null ? 0 : dropped.count();
  }

  /** One line for the log: where spans go, or that they do not. */
  public String describe() {
    if (provider == null) {
      return "tracing off (set OTEL_EXPORTER_OTLP_ENDPOINT to export OpenTelemetry traces)";
    }
    return "OpenTelemetry traces to "
        + settings.endpoint()
        + " (sampler "
        + settings.sampler()
        + (settings.sampler().endsWith("traceidratio") ? " " + settings.ratio() : "")
        + ", queue "
        + settings.maxQueueSize()
        + (settings.content() ? ", content capture on" : "")
        + ")";
  }

  /** Exports what is queued, waiting at most {@code millis}. */
  public void flush(long millis) {
    if (provider != null) {
      provider.forceFlush().join(millis, TimeUnit.MILLISECONDS);
    }
  }

  /** Exports what is queued (up to 5 s), then stops. */
  @Override
  public void close() {
    if (provider == null) {
      return;
    }
    CompletableResultCode r = provider.shutdown().join(5, TimeUnit.SECONDS);
    if (!r.isSuccess()) {
      LOG.warn("traces queued at shutdown could not all be exported");
    }
    meters.shutdown().join(1, TimeUnit.SECONDS);
  }

  /**
   * Reads the batch processor's own counter of processed spans ({@code processedSpans}, {@code
   * dropped=true} for spans refused by a full queue) on demand, for the Prometheus metric.
   */
  static final class DroppedSpans implements MetricReader {
    private static final AttributeKey<Boolean> DROPPED = AttributeKey.booleanKey("dropped");
    private volatile CollectionRegistration registration = CollectionRegistration.noop();

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    long count() {
      long n = 0;
      for (MetricData m : registration.collectAllMetrics()) {
        if (!m.getName().equals("processedSpans")) {
          continue;
        }
        for (LongPointData p : m.getLongSumData().getPoints()) {
          if (Boolean.TRUE.equals(p.getAttributes().get(DROPPED))) {
            n += p.getValue();
          }
        }
      }
      return n;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType type) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  static List<String> finishReasons(String finishReason) {
    return finishReason == null ? List.of() : List.of(finishReason);
  }
}
