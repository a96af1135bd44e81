/**
 * The reporting channel between sidecar and operator: the usage report a sidecar sends and the
 * reply with live budget state. JSON over HTTPS, authenticated with the pod's projected token.
 */
package dev.tollgate.sidecar.config.report;
