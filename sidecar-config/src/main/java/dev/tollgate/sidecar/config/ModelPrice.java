package dev.tollgate.sidecar.config;

import java.math.BigDecimal;

/**
 * A model's price in US dollars per million tokens. {@code cacheRead} and {@code cacheWrite} may be
 * null in an override, meaning "as in the catalogue".
 *
 * @param model the provider's model id (an override) or id prefix (a catalogue entry)
 */
public record ModelPrice(
    String model,
    BigDecimal input,
    BigDecimal output,
    BigDecimal cacheRead,
    BigDecimal cacheWrite) {}
