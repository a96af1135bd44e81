package dev.tollgate.sidecar.provider;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretRedactionTest {
  @Test
  void theCredentialsOwnKeyIsMaskedWhateverItLooksLike() {
    assertThat(SecretRedaction.redact("key 7f3a9c01d2 is not valid here", "7f3a9c01d2"))
        .isEqualTo("key [redacted] is not valid here");
  }

  @Test
  void aPartOfTheKeyQuotedInAMaskedEchoIsMaskedToo() {
    String key = "c0ffee00deadbeef12345678abcdef90";
    assertThat(SecretRedaction.redact("Incorrect key provided: c0ffee00****abcdef90.", key))
        .isEqualTo("Incorrect key provided: [redacted]****[redacted].");
  }

  @Test
  void bearerTokensAndKeyShapedStringsAreMaskedWithoutTheKey() {
    assertThat(
            SecretRedaction.redact(
                "header Authorization: Bearer abc.def-123456 rejected; also sk-proj-AbC123xyz,"
                    + " AKIAABCDEFGHIJKLMNOP, AIzaSyA1234567890abcdefghijklmnop, ya29.a0AfH6SM"
                    + " and api_key=0123456789abcdef",
                null))
        .isEqualTo(
            "header Authorization: Bearer [redacted] rejected; also [redacted], [redacted],"
                + " [redacted], [redacted] and api_key=[redacted]");
  }

  @Test
  void ordinaryErrorTextIsLeftAsItIs() {
    String text =
        "This model's maximum context length is 128000 tokens; the task-12345678 asked for more."
            + " Request id req_0123456789abcdef.";
    assertThat(SecretRedaction.redact(text, "sk-live-0000111122223333")).isEqualTo(text);
  }
}
