package dev.moonbeam.tls;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Creates a self-signed development certificate with the JDK alone: the JDK's own {@code keytool}
 * makes the key pair and certificate in a temporary PKCS#12 file, and Java writes them out as PEM.
 * No openssl is needed, so the demo works on any machine with a JDK. Stateless.
 */
public final class DevCertificate {
    private static final System.Logger LOG = System.getLogger(DevCertificate.class.getName());
    /** keytool starts a JVM and makes one key; a minute is generous even on a loaded CI box. */
    static final long KEYTOOL_TIMEOUT_SECONDS = 60;
    static final int VALIDITY_DAYS = 825; // the longest validity browsers accepted for TLS server certificates
    private static final String PASSWORD_ENV = "MOONBEAM_KEYTOOL_PASSWORD";

    /** What to generate: key algorithm arguments for keytool, subject name and SAN extension. */
    record Spec(List<String> keyArguments, String commonName, String subjectAltNames) {
        static final Spec LOCALHOST_EC = ec("localhost", "dns:localhost,ip:127.0.0.1,ip:::1");

        static Spec ec(String commonName, String subjectAltNames) {
            return new Spec(List.of("-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA"),
                    commonName, subjectAltNames);
        }

        static Spec rsa(String commonName, String subjectAltNames) {
            return new Spec(List.of("-keyalg", "RSA", "-keysize", "2048", "-sigalg", "SHA256withRSA"),
                    commonName, subjectAltNames);
        }
    }

    private DevCertificate() {
    }

    /**
     * Makes a certificate for localhost at these paths unless both files already exist.
     *
     * @return true when new files were written
     */
    public static boolean ensure(Path certFile, Path keyFile) throws TlsMaterialException {
        if (Files.exists(certFile) && Files.exists(keyFile)) {
            return false;
        }
        create(certFile, keyFile, Spec.LOCALHOST_EC);
        LOG.log(Level.WARNING, "Created a self-signed development certificate for localhost: {0} and key {1}."
                + " Replace them with a real certificate and key before serving anyone else.", certFile, keyFile);
        return true;
    }

    /** Writes a fresh self-signed certificate and its PKCS#8 key (mode 600 where POSIX) as PEM. */
    static void create(Path certFile, Path keyFile, Spec spec) throws TlsMaterialException {
        Path workDir = null;
        try {
            workDir = Files.createTempDirectory("moonbeam-cert");
            Path store = workDir.resolve("dev.p12");
            String password = HexFormat.of().formatHex(randomBytes(16));
            runKeytool(store, password, spec);
            KeyMaterial material = KeyMaterial.fromPkcs12(store, password.toCharArray());
            writePem(certFile, keyFile, material);
        } catch (IOException e) {
            throw new TlsMaterialException(certFile, "cannot create a development certificate: " + e.getMessage(), e);
        } finally {
            deleteQuietly(workDir);
        }
    }

    /** For scripts: {@code java -cp moonbeam.jar dev.moonbeam.tls.DevCertificate cert.pem key.pem}. */
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: DevCertificate <cert.pem> <key.pem>");
            System.exit(2);
        }
        try {
            boolean created = ensure(Path.of(args[0]), Path.of(args[1]));
            System.out.println(created
                    ? "created self-signed certificate " + args[0] + " and key " + args[1]
                            + " for localhost; replace them for production"
                    : "certificate " + args[0] + " and key " + args[1] + " already exist");
        } catch (TlsMaterialException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    private static void runKeytool(Path store, String password, Spec spec) throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = new ArrayList<>(List.of(keytool.toString(), "-genkeypair",
                "-alias", "moonbeam", "-dname", "CN=" + spec.commonName(), "-ext", "SAN=" + spec.subjectAltNames(),
                "-validity", Integer.toString(VALIDITY_DAYS), "-keystore", store.toString(), "-storetype", "PKCS12",
                // :env keeps the password off the process list
                "-storepass:env", PASSWORD_ENV, "-keypass:env", PASSWORD_ENV, "-noprompt"));
        command.addAll(spec.keyArguments());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put(PASSWORD_ENV, password);
        Path log = store.resolveSibling("keytool.log");
        builder.redirectOutput(log.toFile());
        Process process = builder.start();
        try {
            if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("keytool did not finish within " + KEYTOOL_TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for keytool", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("keytool failed (exit " + process.exitValue() + "): "
                    + Files.readString(log, StandardCharsets.UTF_8).strip());
        }
    }

    private static void writePem(Path certFile, Path keyFile, KeyMaterial material) throws IOException {
        StringBuilder chain = new StringBuilder();
        for (X509Certificate certificate : material.chain()) {
            try {
                chain.append(PemFiles.encode(PemFiles.CERTIFICATE, certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IOException("cannot encode the generated certificate", e);
            }
        }
        createParent(certFile);
        createParent(keyFile);
        Files.deleteIfExists(keyFile);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            // Create it private before any key byte is written, so it is never world-readable.
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(keyFile, PemFiles.encode(PemFiles.PRIVATE_KEY, material.key().getEncoded()),
                StandardCharsets.US_ASCII);
        Files.writeString(certFile, chain, StandardCharsets.US_ASCII);
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "could not delete temporary directory {0}: {1}", dir, e);
        }
    }
}
