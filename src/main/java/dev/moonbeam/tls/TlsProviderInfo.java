package dev.moonbeam.tls;

/**
 * Which TLS provider serves the listener, for the start-up log, {@code --check}, {@code /status}
 * and the metrics label.
 *
 * @param name {@code "native"} or {@code "jdk"}
 * @param library the library and its version, e.g. {@code "BoringSSL (netty-tcnative 2.0.84.Final)"}
 * @param note why {@code auto} chose this provider (e.g. why the native one did not load); "" when
 *             the configured provider was used as asked
 */
public record TlsProviderInfo(String name, String library, String note) {
    public static final String NATIVE = "native";
    public static final String JDK = "jdk";

    /** One line for logs: {@code native (BoringSSL ...)} plus the note, if any. */
    public String describe() {
        return name + " (" + library + ")" + (note.isEmpty() ? "" : "; " + note);
    }
}
