package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.http.ErrorResponses;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.observe.RequestRecord;
import dev.moonbeam.observe.Termination;

/**
 * What one {@link Exchange} tells the access log and metrics: the {@link RequestRecord} it fills
 * in as the request goes on, and the single report to the worker's listener when the request ends.
 * One per exchange, reused for each request, so nothing is allocated per request. Loop-owned.
 */
final class ExchangeReport {
    /** The exchange's logger: logging set for {@link Exchange} covers all of an exchange's messages. */
    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());

    private final Worker worker;
    private final RequestRecord record = new RequestRecord();
    private boolean reported = true;
    /** When the request went to the backend (again once its connect completed): the base of the backend timings. */
    private long sendStartNanos;

    ExchangeReport(Worker worker) {
        this.worker = worker;
    }

    void bind(byte[] clientAddress, boolean tls, boolean http2) {
        record.clientAddress = clientAddress;
        record.tls = tls;
        record.http2 = http2;
        reported = true;
    }

    void unbind() {
        record.request = null;
        record.backend = null;
    }

    /** A request begins: the record is filled from here until {@link #end}. */
    void begin(HttpHead request) {
        record.begin(request, System.currentTimeMillis(), System.nanoTime());
        reported = false;
    }

    /** True while a request has begun and is not reported yet. */
    boolean inProgress() {
        return !reported;
    }

    /** A response the proxy wrote itself (not an error page): its status and length. */
    void answered(int status, int bytes) {
        record.status = status;
        record.bytesSent = bytes;
    }

    /** An error page (if the status has one) is the response. */
    void errorResponse(int status) {
        record.status = status;
        record.bytesSent = ErrorResponses.supports(status) ? ErrorResponses.length(status) : 0;
    }

    /** The request goes to {@code backend} now (or starts connecting to it). */
    void sending(Backend backend) {
        record.backend = backend;
        sendStartNanos = System.nanoTime();
    }

    /** The new backend connection is up: the connect time is recorded and the response time starts now. */
    void connected() {
        long now = System.nanoTime();
        record.connectNanos = now - sendStartNanos;
        sendStartNanos = now;
    }

    /** The request's time in the queue ends now; counted from the request's start (a retry that queued also counts its first attempt). */
    void queueWaitEnds() {
        record.queueNanos = System.nanoTime() - record.startNanos;
    }

    /** Bytes of the response went to the client (a head, or body bytes). */
    void sent(long bytes) {
        record.bytesSent += bytes;
    }

    /** The final response head went to the client. */
    void finalHead(int status) {
        record.status = status;
        record.backendHeadNanos = System.nanoTime() - sendStartNanos;
    }

    /**
     * The client connection is closing with the request unfinished: a shutdown's drain time ran
     * out (logged as 503 unless part of the response went out), or the client left.
     */
    void abandoned(boolean responseBegun) {
        if (worker.loop().isStopping()) {
            if (!responseBegun) {
                record.status = 503;
            }
            end(Termination.SHUTDOWN);
        } else {
            // The client left before its response was complete.
            record.status = RequestRecord.CLIENT_CLOSED_REQUEST;
            end(Termination.CLIENT_CLOSED);
        }
    }

    /** A request refused before any exchange (bad head, head timeout): logged with no request line. */
    void rejected(int status) {
        record.begin(null, System.currentTimeMillis(), System.nanoTime());
        errorResponse(status);
        reported = false;
        end(Termination.ofRejection(status));
    }

    /** Tells the listeners once per request; a failing listener never breaks the exchange. */
    void end(Termination reason) {
        if (reported) {
            return;
        }
        reported = true;
        if (reason != Termination.COMPLETED && worker.loop().isStopping()) {
            reason = Termination.SHUTDOWN;
        }
        long now = System.nanoTime();
        record.endNanos = now;
        record.termination = reason;
        record.backendNanos = record.backend != null ? now - sendStartNanos : -1;
        try {
            worker.listener().requestFinished(record);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "request listener failed", e);
        }
    }
}
