/**
 * The Tollgate API, group {@code tollgate.dev}, version {@code v1alpha1}: {@link
 * dev.tollgate.api.v1alpha1.LLMRoute}, {@link dev.tollgate.api.v1alpha1.ProviderCredential} and
 * {@link dev.tollgate.api.v1alpha1.Budget}. The CRD YAML in {@code crds/} is generated from these
 * classes; change the classes, never the YAML.
 */
package dev.tollgate.api.v1alpha1;
