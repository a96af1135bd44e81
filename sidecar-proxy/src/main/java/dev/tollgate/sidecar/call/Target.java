package dev.tollgate.sidecar.call;

import dev.tollgate.sidecar.config.CredentialConfig;
import dev.tollgate.sidecar.format.CallerFormat;
import dev.tollgate.sidecar.provider.ProviderAdapter;
import dev.tollgate.sidecar.provider.ProviderAdapters;
import dev.tollgate.sidecar.wire.ApiFormat;

/**
 * Where one attempt goes: a model at a credential, the provider's adapter, and whether the caller's
 * body is forwarded as sent (the provider speaks the caller's format) rather than translated.
 */
record Target(
    CredentialConfig credential, String model, ProviderAdapter adapter, boolean passthrough) {

  static Target of(CredentialConfig credential, String model, ApiFormat callerFormat) {
    ProviderAdapter adapter =
        CallerFormat.of(callerFormat)
            .adapterFor(ProviderAdapters.forProvider(credential.provider()));
    return new Target(credential, model, adapter, adapter.nativeFormat() == callerFormat);
  }

  /** The provider's name as headers, metrics and records spell it. */
  String provider() {
    return credential.provider().wireName();
  }
}
