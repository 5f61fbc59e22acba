package dev.moonbeam.tls;

import java.nio.file.Path;

/**
 * A certificate, key or keystore file could not be used. The message always names the file and
 * says what is wrong, because the operator reading it has to fix that file.
 */
public final class TlsMaterialException extends Exception {
    private static final long serialVersionUID = 1L;

    public TlsMaterialException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public TlsMaterialException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
