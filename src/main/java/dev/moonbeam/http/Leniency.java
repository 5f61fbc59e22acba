package dev.moonbeam.http;

/**
 * Named, individually enabled deviations from strict RFC 9112 parsing. None is on by default
 * ({@link HttpLimits#DEFAULTS}); a mode is a set of these, never a hidden boolean.
 */
public enum Leniency {
    /**
     * Accept a bare LF as a line terminator in the head and chunked framing. RFC 9112 §2.2 allows
     * a recipient to do so, but a bare LF is read differently by different servers, which is how
     * request smuggling starts, so MoonBeam refuses it unless asked.
     */
    BARE_LF_LINE_ENDINGS
}
