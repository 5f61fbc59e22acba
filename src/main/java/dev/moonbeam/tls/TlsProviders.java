package dev.moonbeam.tls;

import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Chooses the TLS provider for {@code ssl.provider}: {@code "native"} (BoringSSL through
 * netty-tcnative's JNI functions), {@code "jdk"} (JSSE, portable) or {@code "auto"}: native when
 * its library loads on this JVM and platform, else JSSE, saying why. Stateless.
 */
public final class TlsProviders {
    private TlsProviders() {
    }

    /**
     * Set to {@code true} ({@code -Dmoonbeam.tls.disableNative=true}) to keep BoringSSL from loading:
     * {@code auto} then serves with JSSE and {@code native} is refused, exactly as on a platform
     * without the library. For ruling the native provider out when diagnosing, and for tests.
     */
    public static final String DISABLE_NATIVE_PROPERTY = "moonbeam.tls.disableNative";

    /** Whether the native provider can run here, and if not, why. */
    public static NativeAvailability nativeAvailability() {
        if (Boolean.getBoolean(DISABLE_NATIVE_PROPERTY)) {
            return new NativeAvailability(false, "", "disabled by -D" + DISABLE_NATIVE_PROPERTY + "=true");
        }
        try {
            BoringSslLibrary.Status status = BoringSslLibrary.status();
            return new NativeAvailability(status.loaded(), libraryName(status.version()), status.reason());
        } catch (LinkageError e) { // the tcnative classes are missing from the class path
            return new NativeAvailability(false, "", "netty-tcnative is not on the class path (" + e + ")");
        }
    }

    /** @param loaded true when the native library is usable; else {@code reason} says why not */
    public record NativeAvailability(boolean loaded, String library, String reason) {
    }

    /**
     * @param choice {@code "auto"}, {@code "native"} or {@code "jdk"} (validated by the config loader)
     * @throws SSLException when {@code "native"} was asked for and cannot load, or BoringSSL refuses the material
     */
    public static ServerTls create(List<KeyMaterial> certificates, TlsSettings settings, String choice)
            throws SSLException {
        if ("jdk".equals(choice)) {
            return SslContexts.create(certificates, settings);
        }
        NativeAvailability availability = nativeAvailability();
        if (!availability.loaded()) {
            if ("native".equals(choice)) {
                throw new SSLException("native TLS cannot load here: " + availability.reason()
                        + "; use \"auto\" or \"jdk\"");
            }
            return SslContexts.create(certificates, settings, "auto fell back: " + availability.reason());
        }
        String note = "auto".equals(choice) ? "auto chose native" : "";
        return NativeServerTls.create(certificates, settings,
                new TlsProviderInfo(TlsProviderInfo.NATIVE, availability.library(), note));
    }

    private static String libraryName(String version) {
        String tcnativeVersion = "unknown";
        try (java.io.InputStream in = TlsProviders.class.getResourceAsStream("/moonbeam-version.properties")) {
            if (in != null) {
                java.util.Properties properties = new java.util.Properties();
                properties.load(in);
                tcnativeVersion = properties.getProperty("tcnative", tcnativeVersion);
            }
        } catch (java.io.IOException e) {
            // the version is for display only
        }
        return (version.isEmpty() ? "BoringSSL" : version) + " via netty-tcnative " + tcnativeVersion;
    }
}
