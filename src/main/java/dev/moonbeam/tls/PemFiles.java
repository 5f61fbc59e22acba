package dev.moonbeam.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Reads PEM (RFC 7468) certificate chains and private keys: PKCS#8 ({@code PRIVATE KEY}), PKCS#1
 * ({@code RSA PRIVATE KEY}) and SEC1 ({@code EC PRIVATE KEY}); the last two are rewrapped into PKCS#8
 * because that is the one form the JDK's {@link KeyFactory} reads. Stateless.
 */
public final class PemFiles {
    static final String CERTIFICATE = "CERTIFICATE";
    static final String PRIVATE_KEY = "PRIVATE KEY";
    static final String RSA_PRIVATE_KEY = "RSA PRIVATE KEY";
    static final String EC_PRIVATE_KEY = "EC PRIVATE KEY";
    static final String EC_PARAMETERS = "EC PARAMETERS";
    static final String ENCRYPTED_PRIVATE_KEY = "ENCRYPTED PRIVATE KEY";

    private static final String BEGIN = "-----BEGIN ";
    private static final String END = "-----END ";
    private static final String DASHES = "-----";
    private static final String DECRYPT_HINT =
            "the private key is encrypted; MoonBeam needs it unencrypted (decrypt it, e.g."
                    + " `openssl pkey -in key.pem -out key-plain.pem`, and keep that file readable only by the proxy)";

    /** One PEM block: its label, whether RFC 1421 headers declared it encrypted, and the DER bytes. */
    record Block(String label, boolean legacyEncrypted, byte[] der) {
    }

    private PemFiles() {
    }

    /** The certificates of a PEM chain file in file order (leaf first, as RFC 8446 §4.4.2 sends them). */
    public static List<X509Certificate> readCertificateChain(Path file) throws TlsMaterialException {
        List<Block> blocks = readBlocks(file);
        List<X509Certificate> chain = new ArrayList<>();
        CertificateFactory factory = certificateFactory();
        for (Block block : blocks) {
            if (!block.label().equals(CERTIFICATE)) {
                throw new TlsMaterialException(file, "contains a '" + block.label()
                        + "' PEM block where only CERTIFICATE blocks are expected");
            }
            try {
                chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
            } catch (CertificateException e) {
                throw new TlsMaterialException(file, "certificate " + (chain.size() + 1)
                        + " is not a valid X.509 DER certificate: " + e.getMessage(), e);
            }
        }
        return List.copyOf(chain);
    }

    /** The private key in the file, whichever of the three unencrypted PEM forms it is in. */
    public static PrivateKey readPrivateKey(Path file) throws TlsMaterialException {
        List<Block> blocks = readBlocks(file);
        byte[] curveOid = null;
        for (Block block : blocks) {
            if (block.legacyEncrypted() || block.label().equals(ENCRYPTED_PRIVATE_KEY)) {
                throw new TlsMaterialException(file, DECRYPT_HINT);
            }
            if (block.label().equals(EC_PARAMETERS)) {
                curveOid = block.der(); // openssl ecparam writes it before the key
            }
        }
        for (Block block : blocks) {
            switch (block.label()) {
                case PRIVATE_KEY:
                    return pkcs8(file, block.der());
                case RSA_PRIVATE_KEY:
                    return decode(file, "RSA", Der.pkcs8(Der.rsaAlgorithm(), block.der()));
                case EC_PRIVATE_KEY:
                    return decode(file, "EC", sec1ToPkcs8(file, block.der(), curveOid));
                case EC_PARAMETERS:
                case CERTIFICATE:
                    break; // a combined key+cert file is common; skip what is not the key
                default:
                    throw new TlsMaterialException(file, "contains a '" + block.label()
                            + "' PEM block; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY");
            }
        }
        throw new TlsMaterialException(file, "has no private key block (expected PRIVATE KEY,"
                + " RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    /**
     * Proves the key belongs to the certificate. When the key carries its public half (an RSA key's
     * modulus and exponent; an EC key's public point, which OpenSSL writes into every key file),
     * comparing it with the certificate's is exact and instant. Otherwise it signs a random
     * challenge and verifies it with the certificate's public key: ~80 ms of cold pure-Java ECDSA,
     * a tenth of start-up, which is why it is only the fallback.
     */
    public static void checkKeyMatches(Path keyFile, PrivateKey key, X509Certificate leaf)
            throws TlsMaterialException {
        PublicKey publicKey = leaf.getPublicKey();
        if (!publicKey.getAlgorithm().equals(key.getAlgorithm())) {
            throw new TlsMaterialException(keyFile, "is a " + key.getAlgorithm()
                    + " key but the certificate has a " + publicKey.getAlgorithm() + " public key");
        }
        Boolean samePublicHalf = comparePublicHalves(key, publicKey);
        if (samePublicHalf != null) {
            if (samePublicHalf) {
                return;
            }
            throw new TlsMaterialException(keyFile, "does not match the certificate's public key ("
                    + leaf.getSubjectX500Principal().getName() + ")");
        }
        String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException(keyFile, "does not match the certificate's public key ("
                    + e.getMessage() + ")", e);
        }
        throw new TlsMaterialException(keyFile, "does not match the certificate's public key ("
                + leaf.getSubjectX500Principal().getName() + ")");
    }

    /** Whether the key's public half equals {@code publicKey}; null when the key does not carry it. */
    static Boolean comparePublicHalves(PrivateKey key, PublicKey publicKey) {
        if (key instanceof java.security.interfaces.RSAPrivateCrtKey rsa
                && publicKey instanceof java.security.interfaces.RSAPublicKey certificate) {
            return rsa.getModulus().equals(certificate.getModulus())
                    && rsa.getPublicExponent().equals(certificate.getPublicExponent());
        }
        if (key.getAlgorithm().equals("EC") && "PKCS#8".equals(key.getFormat()) && "X.509".equals(publicKey.getFormat())) {
            byte[] keyPoint = ecPublicPointOfKey(key.getEncoded());
            byte[] certificatePoint = subjectPublicKeyBits(publicKey.getEncoded());
            if (keyPoint != null && certificatePoint != null) {
                return java.util.Arrays.equals(keyPoint, certificatePoint);
            }
        }
        return null;
    }

    /** PKCS#8 { version, algorithm, OCTET STRING { ECPrivateKey { ..., [1] BIT STRING point } } }. */
    private static byte[] ecPublicPointOfKey(byte[] pkcs8) {
        try {
            List<Der.Tlv> info = Der.readSingle(pkcs8).children();
            if (info.size() < 3 || info.get(2).tag() != Der.OCTET_STRING) {
                return null;
            }
            for (Der.Tlv field : Der.readSingle(info.get(2).value()).children()) {
                if (field.tag() == Der.CONTEXT_1) {
                    Der.Tlv bits = Der.readSingle(field.value());
                    return bits.tag() == Der.BIT_STRING ? bits.value() : null;
                }
            }
            return null;
        } catch (Der.DerException e) {
            return null;
        }
    }

    /** SubjectPublicKeyInfo { algorithm, BIT STRING subjectPublicKey }: the BIT STRING's bytes. */
    private static byte[] subjectPublicKeyBits(byte[] spki) {
        try {
            List<Der.Tlv> fields = Der.readSingle(spki).children();
            return fields.size() == 2 && fields.get(1).tag() == Der.BIT_STRING ? fields.get(1).value() : null;
        } catch (Der.DerException e) {
            return null;
        }
    }

    /** PEM text for one DER object, 64 characters a line (RFC 7468 §2). */
    public static String encode(String label, byte[] der) {
        String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return BEGIN + label + DASHES + "\n" + base64 + "\n" + END + label + DASHES + "\n";
    }

    static List<Block> readBlocks(Path file) throws TlsMaterialException {
        String text;
        try {
            // ISO-8859-1 never fails to decode, so a binary (DER) file reaches the "no PEM block" message.
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new TlsMaterialException(file, "file does not exist", e);
        } catch (AccessDeniedException e) {
            throw new TlsMaterialException(file, "cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new TlsMaterialException(file, "cannot be read: " + e, e);
        }
        List<Block> blocks = new ArrayList<>();
        String[] lines = text.split("\r?\n");
        int i = 0;
        while (i < lines.length) {
            String line = lines[i++].strip();
            if (!line.startsWith(BEGIN) || !line.endsWith(DASHES)) {
                continue; // RFC 7468 §2: text outside the encapsulation boundaries is ignored
            }
            String label = line.substring(BEGIN.length(), line.length() - DASHES.length());
            String endLine = END + label + DASHES;
            StringBuilder base64 = new StringBuilder();
            boolean encrypted = false;
            boolean ended = false;
            while (i < lines.length) {
                String body = lines[i++].strip();
                if (body.equals(endLine)) {
                    ended = true;
                    break;
                }
                if (body.indexOf(':') >= 0) {
                    // RFC 1421 headers of the traditional OpenSSL format, e.g. Proc-Type: 4,ENCRYPTED
                    encrypted |= body.startsWith("Proc-Type:") && body.contains("ENCRYPTED");
                    continue;
                }
                base64.append(body);
            }
            if (!ended) {
                throw new TlsMaterialException(file, "PEM block '" + label + "' has no END line");
            }
            byte[] der;
            try {
                der = Base64.getDecoder().decode(base64.toString());
            } catch (IllegalArgumentException e) {
                throw new TlsMaterialException(file, "PEM block '" + label + "' is not valid base64: "
                        + e.getMessage(), e);
            }
            blocks.add(new Block(label, encrypted, der));
        }
        if (blocks.isEmpty()) {
            throw new TlsMaterialException(file, "contains no PEM block (no '-----BEGIN ...-----' line)");
        }
        return blocks;
    }

    private static PrivateKey pkcs8(Path file, byte[] der) throws TlsMaterialException {
        String algorithm;
        try {
            List<Der.Tlv> info = Der.readSingle(der).children();
            byte[] oid = info.get(1).children().get(0).value();
            if (Arrays.equals(oid, Der.OID_RSA)) {
                algorithm = "RSA";
            } else if (Arrays.equals(oid, Der.OID_EC_PUBLIC_KEY)) {
                algorithm = "EC";
            } else {
                throw new TlsMaterialException(file, "holds a key of an unsupported algorithm (only RSA and EC)");
            }
        } catch (Der.DerException | IndexOutOfBoundsException e) {
            throw new TlsMaterialException(file, "PRIVATE KEY block is not valid PKCS#8 DER", e);
        }
        return decode(file, algorithm, der);
    }

    /** SEC1 ECPrivateKey (RFC 5915 §3): the curve is in its [0] parameters or in an EC PARAMETERS block. */
    private static byte[] sec1ToPkcs8(Path file, byte[] sec1, byte[] curveOidFromBlock) throws TlsMaterialException {
        try {
            byte[] curveOid = curveOidFromBlock;
            for (Der.Tlv field : Der.readSingle(sec1).children()) {
                if (field.tag() == Der.CONTEXT_0) {
                    curveOid = field.value(); // explicit tag around the OID TLV
                }
            }
            if (curveOid == null) {
                throw new TlsMaterialException(file, "EC PRIVATE KEY names no curve (no parameters in the key"
                        + " and no EC PARAMETERS block)");
            }
            if (Der.readSingle(curveOid).tag() != Der.OID) {
                throw new TlsMaterialException(file, "EC key uses explicit curve parameters; only named curves are supported");
            }
            return Der.pkcs8(Der.ecAlgorithm(curveOid), sec1);
        } catch (Der.DerException e) {
            throw new TlsMaterialException(file, "EC PRIVATE KEY block is not valid SEC1 DER: " + e.getMessage(), e);
        }
    }

    private static PrivateKey decode(Path file, String algorithm, byte[] pkcs8) throws TlsMaterialException {
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException(file, "is not a valid " + algorithm + " private key: " + e.getMessage(), e);
        }
    }

    private static CertificateFactory certificateFactory() {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK always has X.509", e);
        }
    }
}
