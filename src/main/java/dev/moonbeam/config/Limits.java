package dev.moonbeam.config;

/**
 * The {@code limits} section. Defaults follow nginx and HAProxy: an 8 KiB request line
 * ({@code large_client_header_buffers 4 8k}), 32 KiB of headers, 100 header fields
 * ({@code tune.http.maxhdr 101}).
 *
 * @param maxRequestLine    bytes in the request line, else 414
 * @param maxHeaderBytes    bytes in the whole head, else 431
 * @param maxHeaderCount    header fields per message, else 431
 * @param maxChunkExtension bytes of chunk extensions per chunk, else 400
 * @param maxBodyBytes      request body bytes, else 413; 0 means unlimited
 * @param maxIdlePerBackend idle keep-alive connections each loop keeps per backend
 * @param maxClientConnections client connections open at once, process-wide; 0: derived from the
 *                          open-file limit at start (see dev.moonbeam.proxy.ClientConnectionLimit)
 */
public record Limits(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount, int maxChunkExtension,
                     long maxBodyBytes, int maxIdlePerBackend, int maxClientConnections) {
    /**
     * 1,024 idle backend connections per loop and backend: each request in flight holds one (HTTP/2
     * clients keep many in flight), and a pool smaller than the concurrency closes and reopens
     * connections all the time. The cap only keeps open what the load already opened; the backend
     * idle timeout closes the rest.
     */
    public static final Limits DEFAULTS = new Limits(8192, 32768, 100, 4096, 0, 1024, 0);
}
