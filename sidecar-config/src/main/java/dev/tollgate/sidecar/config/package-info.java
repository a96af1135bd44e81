/**
 * The sidecar configuration contract: immutable records that the operator renders into a ConfigMap
 * and the sidecar proxy reads, validates and hot-reloads.
 */
package dev.tollgate.sidecar.config;
