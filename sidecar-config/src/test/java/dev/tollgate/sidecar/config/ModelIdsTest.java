package dev.tollgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ModelIdsTest {
  @Test
  void datedAndVersionedVariantsMatch() {
    assertThat(ModelIds.matches("gpt-4o", "gpt-4o")).isTrue();
    assertThat(ModelIds.matches("gpt-4o", "gpt-4o-2024-08-06")).isTrue();
    assertThat(ModelIds.matches("claude-3-5-sonnet", "claude-3-5-sonnet-20241022")).isTrue();
    assertThat(ModelIds.matches("claude-3-5-sonnet", "claude-3-5-sonnet-v2@20241022")).isTrue();
    assertThat(ModelIds.matches("claude-3-opus", "claude-3-opus@20240229")).isTrue();
    assertThat(ModelIds.matches("claude-3-haiku", "claude-3-haiku-20240307-v1:0")).isTrue();
    assertThat(ModelIds.matches("claude-3-5-haiku", "claude-3-5-haiku-latest")).isTrue();
    assertThat(ModelIds.matches("gemini-1.5-flash-8b", "gemini-1.5-flash-8b-001")).isTrue();
    assertThat(ModelIds.matches("gemini-2.5-flash", "gemini-2.5-flash-preview-05-20")).isTrue();
    assertThat(ModelIds.matches("mistral-large", "mistral-large-2411")).isTrue();
    assertThat(ModelIds.matches("command-r-plus", "command-r-plus-08-2024")).isTrue();
    assertThat(ModelIds.matches("amazon.nova-pro-v1", "amazon.nova-pro-v1:0")).isTrue();
  }

  @Test
  void siblingModelsDoNotMatch() {
    assertThat(ModelIds.matches("gpt-4o", "gpt-4o-mini")).isFalse();
    assertThat(ModelIds.matches("gpt-5", "gpt-5.5")).isFalse();
    assertThat(ModelIds.matches("gpt-5", "gpt-5-mini")).isFalse();
    assertThat(ModelIds.matches("o3", "o3-mini")).isFalse();
    assertThat(ModelIds.matches("claude-opus-4", "claude-opus-4-5")).isFalse();
    assertThat(ModelIds.matches("claude-opus-4", "claude-opus-4-1-20250805")).isFalse();
    assertThat(ModelIds.matches("gemini-2.0-flash", "gemini-2.0-flash-lite")).isFalse();
    assertThat(ModelIds.matches("gpt-4o", "gpt-4")).isFalse();
  }
}
