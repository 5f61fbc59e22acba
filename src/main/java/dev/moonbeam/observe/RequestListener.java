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
}
