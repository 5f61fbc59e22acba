package dev.moonbeam.tls;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The little DER (X.690) needed to turn PKCS#1 and SEC1 keys into PKCS#8: read TLVs, write TLVs.
 * Stateless; definite lengths only, as DER requires (X.690 §10.1).
 */
final class Der {
    static final int INTEGER = 0x02;
    static final int BIT_STRING = 0x03;
    static final int OCTET_STRING = 0x04;
    static final int NULL = 0x05;
    static final int OID = 0x06;
    static final int SEQUENCE = 0x30;
    static final int CONTEXT_0 = 0xA0;
    static final int CONTEXT_1 = 0xA1;

    /** rsaEncryption, RFC 8017 appendix A.1. */
    static final byte[] OID_RSA = {0x2A, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xF7, 0x0D, 0x01, 0x01, 0x01};
    /** id-ecPublicKey, RFC 5480 §2.1.1. */
    static final byte[] OID_EC_PUBLIC_KEY = {0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x02, 0x01};

    /** One decoded element: tag and the value bytes. */
    record Tlv(int tag, byte[] value) {
        List<Tlv> children() throws DerException {
            return Der.readAll(value);
        }
    }

    /** Malformed DER; callers turn it into a message naming the file. */
    static final class DerException extends Exception {
        private static final long serialVersionUID = 1L;

        DerException(String message) {
            super(message);
        }
    }

    private Der() {
    }

    /** Reads exactly one element spanning all of {@code der}. */
    static Tlv readSingle(byte[] der) throws DerException {
        List<Tlv> all = readAll(der);
        if (all.size() != 1) {
            throw new DerException("expected one DER element, found " + all.size());
        }
        return all.get(0);
    }

    static List<Tlv> readAll(byte[] der) throws DerException {
        List<Tlv> out = new ArrayList<>();
        int pos = 0;
        while (pos < der.length) {
            if (der.length - pos < 2) {
                throw new DerException("truncated DER element");
            }
            int tag = der[pos++] & 0xFF;
            int first = der[pos++] & 0xFF;
            int length;
            if (first < 0x80) {
                length = first;
            } else {
                int count = first & 0x7F;
                // Indefinite lengths (0x80) are BER only; more than 3 length bytes would be a >16 MiB key.
                if (count == 0 || count > 3 || der.length - pos < count) {
                    throw new DerException("bad DER length");
                }
                length = 0;
                for (int i = 0; i < count; i++) {
                    length = (length << 8) | (der[pos++] & 0xFF);
                }
            }
            if (length > der.length - pos) {
                throw new DerException("DER element longer than its input");
            }
            byte[] value = new byte[length];
            System.arraycopy(der, pos, value, 0, length);
            pos += length;
            out.add(new Tlv(tag, value));
        }
        return out;
    }

    static byte[] encode(int tag, byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 6);
        out.write(tag);
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length);
        } else {
            out.write(0x83);
            out.write(length >> 16);
            out.write(length >> 8);
            out.write(length);
        }
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static byte[] encode(Tlv tlv) {
        return encode(tlv.tag(), tlv.value());
    }

    /** PKCS#8 PrivateKeyInfo (RFC 5208 §5) around an algorithm-specific key. */
    static byte[] pkcs8(byte[] algorithmIdentifier, byte[] privateKey) {
        return encode(SEQUENCE,
                encode(INTEGER, new byte[] {0}),
                algorithmIdentifier,
                encode(OCTET_STRING, privateKey));
    }

    /** AlgorithmIdentifier for RSA: OID plus an explicit NULL parameter (RFC 8017 A.1). */
    static byte[] rsaAlgorithm() {
        return encode(SEQUENCE, encode(OID, OID_RSA), encode(NULL));
    }

    /** AlgorithmIdentifier for EC with a named curve (RFC 5480 §2.1.1); curveOid is a whole OID TLV. */
    static byte[] ecAlgorithm(byte[] curveOidTlv) {
        return encode(SEQUENCE, encode(OID, OID_EC_PUBLIC_KEY), curveOidTlv);
    }
}
