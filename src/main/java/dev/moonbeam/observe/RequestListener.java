package dev.moonbeam.observe;

/**
 * Told about every finished request, on the loop thread that served it. Implementations must not
 * block or allocate per call (the access log copies into a pre-allocated slot; metrics bump
 * per-loop counters).
 */
@FunctionalInterface
public interface RequestListener {
    RequestListener NONE = record -> { };

    void requestFinished(RequestRecord record);

    /**
     * Tells {@code first}, then {@code second}. Built once per loop at wiring, so nothing is
     * allocated per request; a NONE side is skipped entirely.
     */
    static RequestListener both(RequestListener first, RequestListener second) {
        if (first == NONE) {
            return second;
        }
        if (second == NONE) {
            return first;
        }
        return record -> {
            first.requestFinished(record);
            second.requestFinished(record);
        };
    }
}
