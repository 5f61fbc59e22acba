package dev.moonbeam.observe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log: one line per request, written to a file by its own thread so an event loop
 * never waits on the disk.
 *
 * <p>Each loop gets a {@link Recorder} (its {@link RequestListener}) with a ring of
 * {@code queueSlots} pre-allocated line slots. The loop formats a line straight into the next free
 * slot; when the ring is full the line is dropped and counted ({@link #drops()}), never waited
 * for. The writer thread drains every ring into one buffer and writes in batches, flushing when
 * the rings are empty, then sleeps until a recorder wakes it.
 *
 * <p>Shared: {@link #reopen()}, {@link #drops()}, {@link #close()} and {@link #recorder()} are
 * safe from any thread. The file channel belongs to the writer thread alone.
 */
public final class AccessLog implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AccessLog.class.getName());
    private static final int WRITE_BUFFER_BYTES = 64 * 1024;
    /** Longest the writer sleeps without being woken (also bounds a missed wake-up). */
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long CLOSE_WAIT_MILLIS = 5_000;

    private final Path file;
    private final int queueSlots;
    private final CopyOnWriteArrayList<Recorder> recorders = new CopyOnWriteArrayList<>();
    private final Thread writer;
    private volatile boolean reopenRequested;
    private volatile boolean closing;
    /** The writer is about to park: recorders must unpark it after publishing a line. */
    private volatile boolean writerIdle;
    private final AtomicLong writeErrors = new AtomicLong();
    private final AtomicLong reopens = new AtomicLong();

    /** Writer thread only. */
    private FileChannel channel;
    private final ByteBuffer out = ByteBuffer.allocate(WRITE_BUFFER_BYTES);

    private AccessLog(Path file, int queueSlots, FileChannel channel) {
        this.file = file;
        this.queueSlots = queueSlots;
        this.channel = channel;
        this.writer = new Thread(this::run, "access-log");
        writer.setDaemon(true);
    }

    /**
     * Opens (creating or appending to) {@code file} and starts the writer thread.
     *
     * @param queueSlots lines each loop may have waiting for the disk before it drops (e.g. 4096)
     */
    public static AccessLog open(Path file, int queueSlots) throws IOException {
        AccessLog log = openPaused(file, queueSlots);
        log.startWriter();
        return log;
    }

    /** Opens without starting the writer, so tests can fill the queues deterministically. */
    static AccessLog openPaused(Path file, int queueSlots) throws IOException {
        if (queueSlots < 1) {
            throw new IllegalArgumentException("queueSlots must be >= 1: " + queueSlots);
        }
        return new AccessLog(file, queueSlots, openChannel(file));
    }

    void startWriter() {
        writer.start();
    }

    /** A new listener for one event loop; call once per loop while wiring. */
    public Recorder recorder() {
        Recorder recorder = new Recorder(this, queueSlots);
        recorders.add(recorder);
        return recorder;
    }

    /** Lines dropped because a loop's queue was full, over all loops. */
    public long drops() {
        long sum = 0;
        for (Recorder recorder : recorders) {
            sum += recorder.drops;
        }
        return sum;
    }

    /** Failed writes or reopens (each also logged); the lines concerned are lost. */
    public long writeErrors() {
        return writeErrors.get();
    }

    /** Completed reopens, for tests and metrics. */
    public long reopens() {
        return reopens.get();
    }

    public Path file() {
        return file;
    }

    /**
     * Asks the writer to close and reopen the file by its path before its next write: after
     * logrotate moved the file away (on SIGHUP/SIGUSR1), new lines go to a new file. Any thread.
     */
    public void reopen() {
        reopenRequested = true;
        LockSupport.unpark(writer);
    }

    /** Writes what is queued, closes the file and stops the writer (waiting at most 5 s). */
    @Override
    public void close() {
        closing = true;
        if (writer.getState() == Thread.State.NEW) {
            closeChannel(); // never started: nothing can be queued for a writer that will not come
            return;
        }
        LockSupport.unpark(writer);
        try {
            writer.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            LOG.log(System.Logger.Level.WARNING, "access log writer did not stop within " + CLOSE_WAIT_MILLIS + " ms");
        }
    }

    private static FileChannel openChannel(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    private void run() {
        try {
            while (true) {
                boolean stopping = closing; // read before draining so the last lines are not left behind
                if (reopenRequested) {
                    reopenFile();
                }
                boolean wrote = drainAll();
                writeOut();
                if (stopping) {
                    return;
                }
                if (!wrote) {
                    writerIdle = true;
                    // Re-check after announcing idleness: a recorder that published before seeing
                    // the flag is caught here; one that published after will unpark us.
                    if (!hasQueued() && !reopenRequested && !closing) {
                        LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                    }
                    writerIdle = false;
                }
            }
        } finally {
            closeChannel();
        }
    }

    private boolean hasQueued() {
        for (Recorder recorder : recorders) {
            if (recorder.hasQueued()) {
                return true;
            }
        }
        return false;
    }

    /** Moves every queued line into the write buffer, writing whenever it fills. */
    private boolean drainAll() {
        boolean any = false;
        for (Recorder recorder : recorders) {
            long next = recorder.consumed.get();
            long end = recorder.published.get();
            // Bounded: at most one ring's worth per recorder per round, so close() is not starved.
            for (; next < end; next++) {
                int slot = (int) (next % recorder.slots);
                int length = recorder.lengths[slot];
                if (out.remaining() < length) {
                    writeOut();
                }
                out.put(recorder.lines, slot * AccessLogLine.MAX_LINE_BYTES, length);
                any = true;
            }
            recorder.consumed.set(end);
        }
        return any;
    }

    private void writeOut() {
        out.flip();
        try {
            if (channel == null && out.hasRemaining()) {
                channel = openChannel(file);
            }
            while (out.hasRemaining()) {
                channel.write(out); // file write, writer thread only
            }
        } catch (IOException e) {
            writeErrors.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "access log " + file + ": " + e.getMessage());
            closeChannel(); // try a fresh open at the next write
        } finally {
            out.clear();
        }
    }

    private void reopenFile() {
        reopenRequested = false;
        writeOut();
        closeChannel();
        try {
            channel = openChannel(file);
            reopens.incrementAndGet();
        } catch (IOException e) {
            writeErrors.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "access log " + file + ": reopen failed: " + e.getMessage());
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "access log close: " + e.getMessage());
            }
            channel = null;
        }
    }

    /** Called by a recorder after it published a line. */
    void published() {
        if (writerIdle) {
            LockSupport.unpark(writer);
        }
    }

    /**
     * One loop's {@link RequestListener}: formats each finished request into the next free slot of
     * its ring, allocating nothing.
     *
     * <p>Owned by its event loop, which alone calls {@link #requestFinished}. The ring is the one
     * structure shared with the writer thread: single producer (the loop) and single consumer (the
     * writer) coordinate through the two sequence counters only — the loop writes a slot and then
     * publishes it, the writer reads it and then releases it — so neither ever waits.
     */
    public static final class Recorder implements RequestListener {
        private final AccessLog log;
        private final int slots;
        private final byte[] lines;
        private final int[] lengths;
        private final AccessLogLine format = new AccessLogLine();
        /** Lines written into slots; advanced by the loop after the slot is complete. */
        private final AtomicLong published = new AtomicLong();
        /** Lines the writer has copied out; advanced by the writer. */
        private final AtomicLong consumed = new AtomicLong();
        /** Written by the loop only; volatile so the writer and metrics read a current value. */
        private volatile long drops;

        private Recorder(AccessLog log, int slots) {
            this.log = log;
            this.slots = slots;
            this.lines = new byte[slots * AccessLogLine.MAX_LINE_BYTES];
            this.lengths = new int[slots];
        }

        @Override
        public void requestFinished(RequestRecord record) {
            long next = published.get();
            if (next - consumed.get() >= slots || log.closing) {
                drops = drops + 1; // single writer: the loop
                return;
            }
            int slot = (int) (next % slots);
            int offset = slot * AccessLogLine.MAX_LINE_BYTES;
            // Formatting into a slice of the shared array: format() writes at most MAX_LINE_BYTES.
            lengths[slot] = format.format(record, lines, offset);
            published.set(next + 1);
            log.published();
        }

        /** Lines this loop dropped because its ring was full. */
        public long drops() {
            return drops;
        }

        boolean hasQueued() {
            return consumed.get() != published.get();
        }
    }
}
