package dev.tollgate.simulator;

/**
 * One frame of a streamed answer, before encoding: an event name (or null), its JSON data, and the
 * output tokens it carries (counted as served when it is written).
 */
record Frame(String event, String data, int tokens) {}
