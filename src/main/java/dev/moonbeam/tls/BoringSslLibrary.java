package dev.moonbeam.tls;

import io.netty.internal.tcnative.Library;
import io.netty.internal.tcnative.SSL;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Loads BoringSSL (statically linked into netty-tcnative's JNI library, shipped inside our jar) once
 * per process, and says why when it cannot. The library is copied out of the jar into a private
 * temporary directory under its own file name: its JNI_OnLoad derives the Java package of its
 * classes from that name, so it must not be renamed.
 *
 * <p>Thread-safe: loading happens once, under the class's initialisation lock.
 */
final class BoringSslLibrary {
    private static final System.Logger LOG = System.getLogger(BoringSslLibrary.class.getName());
    private static final Status STATUS = load();

    /** Whether the library loaded; {@code reason} says why not, {@code version} what loaded. */
    record Status(boolean loaded, String version, String reason) {
    }

    private BoringSslLibrary() {
    }

    static Status status() {
        return STATUS;
    }

    private static Status load() {
        String classifier = platformClassifier();
        if (classifier == null) {
            return new Status(false, "", "no BoringSSL build for " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch"));
        }
        String fileName = "libnetty_tcnative_" + classifier + ".so";
        String resource = "META-INF/native/" + fileName;
        try (InputStream in = BoringSslLibrary.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return new Status(false, "", "the BoringSSL library (" + resource + ") is not on the class path");
            }
            Path directory = Files.createTempDirectory("moonbeam-boringssl",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path library = directory.resolve(fileName);
            Files.copy(in, library, StandardCopyOption.REPLACE_EXISTING);
            try {
                System.load(library.toString());
                Library.initialize("provided", null);
            } finally {
                // Once mapped, the file is no longer needed; nothing is left behind in /tmp.
                Files.deleteIfExists(library);
                Files.deleteIfExists(directory);
            }
            String version = SSL.versionString();
            return new Status(true, version, "");
        } catch (IOException e) {
            return new Status(false, "", "cannot unpack the BoringSSL library: " + e.getMessage());
        } catch (Throwable e) { // UnsatisfiedLinkError, or an Exception from Library.initialize
            LOG.log(System.Logger.Level.DEBUG, "BoringSSL did not load", e);
            return new Status(false, "", "the BoringSSL library did not load: " + e);
        }
    }

    /** netty-tcnative's classifier for this machine, or null when none is shipped for it. */
    private static String platformClassifier() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux")) {
            return null; // only Linux builds are packaged with MoonBeam
        }
        switch (arch) {
            case "amd64":
            case "x86_64":
                return "linux_x86_64";
            case "aarch64":
                return "linux_aarch_64";
            default:
                return null;
        }
    }
}
