package dev.moonbeam.config;

import java.nio.file.Path;

/**
 * A configuration that cannot be used. The message always names the file, the key path inside it
 * (e.g. {@code backend_servers[1]}) when there is one, and what is wrong, so an operator can fix
 * it without reading a stack trace.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String keyPath;
    private final String problem;

    public ConfigException(Path file, String keyPath, String problem) {
        this(file, keyPath, problem, null);
    }

    public ConfigException(Path file, String keyPath, String problem, Throwable cause) {
        super(format(file, keyPath, problem), cause);
        this.file = file;
        this.keyPath = keyPath;
        this.problem = problem;
    }

    private static String format(Path file, String keyPath, String problem) {
        StringBuilder message = new StringBuilder();
        message.append(file == null ? "<config>" : file.toString());
        if (keyPath != null && !keyPath.isEmpty()) {
            message.append(": ").append(keyPath);
        }
        return message.append(": ").append(problem).toString();
    }

    public Path file() {
        return file;
    }

    /** The key path inside the file, or an empty string when the problem concerns the whole file. */
    public String keyPath() {
        return keyPath == null ? "" : keyPath;
    }

    public String problem() {
        return problem;
    }
}
