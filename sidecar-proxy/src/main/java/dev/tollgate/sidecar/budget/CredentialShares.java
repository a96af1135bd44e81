package dev.tollgate.sidecar.budget;

import dev.tollgate.sidecar.config.report.ReportReply;
import dev.tollgate.sidecar.routing.RateLimits;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the operator's credential shares to this sidecar's rate limiters: a credential's account
 * limits hold across every pod of the namespace, and each reply says how much of them is this
 * pod's. Until the first reply a limited credential admits nothing ({@link
 * RateLimits#withholdUnsharedCredentials}), because the other pods may already hold the whole
 * limit; the first report goes out at start, so this lasts one round trip. With the operator away
 * the last shares stay in force. A credential the reply does not name (an operator that does not
 * divide limits) keeps its configured limit once a reply arrived.
 */
public final class CredentialShares implements Consumer<ReportReply> {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialShares.class);

  private final RateLimits limits;
  private boolean replied; // reporter thread only
  private final java.util.Map<String, ReportReply.CredentialShare> last = new java.util.HashMap<>();

  /** Withholds {@code limits}' limited credentials until the first reply's shares arrive. */
  public CredentialShares(RateLimits limits) {
    this.limits = limits;
    limits.withholdUnsharedCredentials();
  }

  @Override
  public void accept(ReportReply reply) {
    for (ReportReply.CredentialShare s : reply.credentialShares()) {
      ReportReply.CredentialShare before = last.put(s.credential(), s);
      if (before == null
          || !java.util.Objects.equals(before.requestsPerMinute(), s.requestsPerMinute())
          || !java.util.Objects.equals(before.tokensPerMinute(), s.tokensPerMinute())
          || before.liveSidecars() != s.liveSidecars()) {
        limits.shareCredential(
            s.credential(), s.requestsPerMinute(), s.tokensPerMinute(), s.liveSidecars());
        LOG.info(
            "credential {}: this pod's share is {} requests/min, {} tokens/min ({} live sidecars)",
            s.credential(),
            s.requestsPerMinute() == null ? "unlimited" : s.requestsPerMinute(),
            s.tokensPerMinute() == null ? "unlimited" : s.tokensPerMinute(),
            s.liveSidecars());
      }
    }
    if (!replied) {
      replied = true;
      limits.shareUnnamedCredentialsFully();
    }
  }
}
