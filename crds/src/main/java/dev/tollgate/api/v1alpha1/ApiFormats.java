package dev.tollgate.api.v1alpha1;

/**
 * String formats shared by the three resources. Kubernetes validates them with RE2, so they use no
 * look-arounds or back-references; Java's regex engine accepts them unchanged.
 */
public final class ApiFormats {
  /** API group of every Tollgate resource. */
  public static final String GROUP = "tollgate.dev";

  /** API version of this package. */
  public static final String VERSION = "v1alpha1";

  /** Category so that {@code kubectl get tollgate} lists all three kinds. */
  public static final String CATEGORY = "tollgate";

  /** US dollars as a non-negative decimal string with up to six decimals: {@code "2500.00"}. */
  public static final String MONEY = "^[0-9]{1,12}(\\.[0-9]{1,6})?$";

  /**
   * A strictly positive amount of US dollars (a budget limit): like {@link #MONEY}, but not zero.
   */
  public static final String POSITIVE_MONEY =
      "^([1-9][0-9]{0,11}(\\.[0-9]{1,6})?|0\\.0{0,5}[1-9][0-9]{0,5})$";

  /** A percentage as a decimal string from 0 to 1000 with up to four decimals: {@code "12.5"}. */
  public static final String PERCENT = "^[0-9]{1,4}(\\.[0-9]{1,4})?$";

  /** A duration such as {@code 30s}, {@code 500ms}, {@code 1m30s} or {@code 2h}. */
  public static final String DURATION = "^([0-9]+(ms|s|m|h))+$";

  /** An http(s) base URL. */
  public static final String URL = "^https?://[^\\s]+$";

  /** A DNS-1123 label: names of Kubernetes objects and of tiers. */
  public static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

  /** A DNS-1123 subdomain: names of Secrets, credentials, budgets. */
  public static final String DNS_SUBDOMAIN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** An HTTP header name. */
  public static final String HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

  /** A model name as applications or providers spell it: {@code support-chat}, {@code gpt-4o}. */
  public static final String MODEL_NAME = "^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$";

  private ApiFormats() {}
}
