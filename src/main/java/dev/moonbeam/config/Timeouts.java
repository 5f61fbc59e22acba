package dev.moonbeam.config;

import java.time.Duration;

/**
 * The {@code timeouts} section.
 *
 * @param clientHead      the whole request head must arrive within this (slowloris guard), else 408
 * @param clientIdle      a keep-alive client connection with no request in progress is closed after this
 * @param tlsHandshake    a TLS handshake must complete within this
 * @param backendConnect  connecting to a backend; on expiry the next backend is tried
 * @param backendResponse waiting for response bytes from a backend, else 504
 * @param backendIdle     an idle pooled backend connection is closed after this (shorter than common
 *                        backends' own keep-alive timeouts, so we close first)
 * @param shutdownDrain   on SIGTERM, in-flight requests get this long to finish
 * @param loopStallWarning an event loop busy in one round for longer than this is logged with its
 *                        stack (see dev.moonbeam.loop.LoopWatchdog); zero switches the warning off
 * @param clientBody      an HTTP/1.1 request body must arrive whole within this after its head, else
 *                        408; zero (the default) = no limit beyond the inactivity timeout
 * @param shutdownDelay   on SIGTERM, /healthz answers 503 at once but MoonBeam goes on accepting and
 *                        serving as usual for this long before the drain starts, so a balancer that
 *                        health-checks it stops sending before the listeners close (HAProxy's
 *                        {@code grace}); zero (the default) = drain at once
 */
public record Timeouts(Duration clientHead, Duration clientIdle, Duration tlsHandshake, Duration backendConnect,
                       Duration backendResponse, Duration backendIdle, Duration shutdownDrain,
                       Duration loopStallWarning, Duration clientBody, Duration shutdownDelay) {
    public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60),
            Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(30),
            Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ZERO, Duration.ZERO);
}
