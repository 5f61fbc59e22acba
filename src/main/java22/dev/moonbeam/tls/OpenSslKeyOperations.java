package dev.moonbeam.tls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link PrivateKeyOperations} over the system's OpenSSL 3 {@code libcrypto}, through
 * {@code java.lang.foreign}. Compiled for Java 22 in its own source folder and found by
 * reflection, so the rest of MoonBeam still runs on Java 17.
 *
 * <p>Every failing call drains OpenSSL's (thread-local) error queue into the exception message,
 * so a later call on this thread never reports an earlier failure. Thread-safe: an
 * {@code EVP_PKEY} is only read here, and every operation has its own context and arena.
 */
final class OpenSslKeyOperations implements PrivateKeyOperations {
    private static final long MIN_VERSION = 0x3000_0000L;
    private static final int RSA_NO_PADDING = 3;
    private static final int RSA_PKCS1_PSS_PADDING = 6;
    private static final int RSA_PSS_SALTLEN_DIGEST = -1;
    private static final int EVP_PKEY_RSA = 6;
    private static final int EVP_PKEY_EC = 408;
    private static final long OPENSSL_INIT_NO_ATEXIT = 0x0008_0000L;

    private final String library;
    private final MethodHandle d2iAutoPrivateKey;
    private final MethodHandle pkeyFree;
    private final MethodHandle pkeyGetSize;
    private final MethodHandle pkeyGetBaseId;
    private final MethodHandle mdCtxNew;
    private final MethodHandle mdCtxFree;
    private final MethodHandle digestSignInit;
    private final MethodHandle digestSign;
    private final MethodHandle setRsaPadding;
    private final MethodHandle setRsaPssSaltLength;
    private final MethodHandle pkeyCtxNew;
    private final MethodHandle pkeyCtxFree;
    private final MethodHandle decryptInit;
    private final MethodHandle decrypt;
    private final MethodHandle errGetError;
    private final MethodHandle errClearError;
    private final MethodHandle errErrorStringN;
    private final MemorySegment sha1;
    private final MemorySegment sha256;
    private final MemorySegment sha384;
    private final MemorySegment sha512;

    private OpenSslKeyOperations(SymbolLookup crypto, Linker linker) throws Throwable {
        MethodHandle versionText = handle(crypto, linker, "OpenSSL_version", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        library = ((MemorySegment) versionText.invokeExact(0)).reinterpret(256).getString(0);
        d2iAutoPrivateKey = handle(crypto, linker, "d2i_AutoPrivateKey",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        pkeyFree = handle(crypto, linker, "EVP_PKEY_free", FunctionDescriptor.ofVoid(ADDRESS));
        pkeyGetSize = handle(crypto, linker, "EVP_PKEY_get_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        pkeyGetBaseId = handle(crypto, linker, "EVP_PKEY_get_base_id", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        mdCtxNew = handle(crypto, linker, "EVP_MD_CTX_new", FunctionDescriptor.of(ADDRESS));
        mdCtxFree = handle(crypto, linker, "EVP_MD_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
        digestSignInit = handle(crypto, linker, "EVP_DigestSignInit",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        digestSign = handle(crypto, linker, "EVP_DigestSign",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        setRsaPadding = handle(crypto, linker, "EVP_PKEY_CTX_set_rsa_padding",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        setRsaPssSaltLength = handle(crypto, linker, "EVP_PKEY_CTX_set_rsa_pss_saltlen",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        pkeyCtxNew = handle(crypto, linker, "EVP_PKEY_CTX_new", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        pkeyCtxFree = handle(crypto, linker, "EVP_PKEY_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
        decryptInit = handle(crypto, linker, "EVP_PKEY_decrypt_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        decrypt = handle(crypto, linker, "EVP_PKEY_decrypt",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        errGetError = handle(crypto, linker, "ERR_get_error", FunctionDescriptor.of(JAVA_LONG));
        errClearError = handle(crypto, linker, "ERR_clear_error", FunctionDescriptor.ofVoid());
        errErrorStringN = handle(crypto, linker, "ERR_error_string_n",
                FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_LONG));
        sha1 = digest(crypto, linker, "EVP_sha1");
        sha256 = digest(crypto, linker, "EVP_sha256");
        sha384 = digest(crypto, linker, "EVP_sha384");
        sha512 = digest(crypto, linker, "EVP_sha512");
    }

    /**
     * Called reflectively by {@link PrivateKeyOperations#system()}: the operations, or a String
     * saying why the system's OpenSSL 3 cannot be used.
     */
    public static Object load() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup crypto;
        try {
            crypto = SymbolLookup.libraryLookup("libcrypto.so.3", Arena.global());
        } catch (IllegalArgumentException e) {
            return "the system's OpenSSL 3 (libcrypto.so.3) is not installed";
        }
        try {
            MethodHandle versionNumber = handle(crypto, linker, "OpenSSL_version_num", FunctionDescriptor.of(JAVA_LONG));
            long version = (long) versionNumber.invokeExact();
            if (version < MIN_VERSION) {
                return "libcrypto.so.3 reports version 0x" + Long.toHexString(version) + ", below 3.0";
            }
            // No atexit clean-up: the JVM may exit (a second SIGTERM) while loops still sign, and
            // OpenSSL tearing itself down under them would crash the process on its way out.
            MethodHandle init = handle(crypto, linker, "OPENSSL_init_crypto",
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
            if ((int) init.invokeExact(OPENSSL_INIT_NO_ATEXIT, MemorySegment.NULL) != 1) {
                return "OPENSSL_init_crypto failed";
            }
            return new OpenSslKeyOperations(crypto, linker);
        } catch (Throwable e) {
            return "cannot bind libcrypto.so.3: " + e;
        }
    }

    @Override
    public String library() {
        return library;
    }

    @Override
    public long load(byte[] pkcs8) throws SSLException {
        clearErrors();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment der = copyIn(arena, pkcs8);
            MemorySegment cursor = arena.allocate(ADDRESS);
            cursor.set(ADDRESS, 0, der);
            MemorySegment key = (MemorySegment) d2iAutoPrivateKey.invokeExact(MemorySegment.NULL, cursor,
                    (long) pkcs8.length);
            der.fill((byte) 0); // the key's bytes do not linger in native memory
            if (key.equals(MemorySegment.NULL)) {
                throw failure("cannot load the private key");
            }
            int type = (int) pkeyGetBaseId.invokeExact(key);
            if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
                pkeyFree.invokeExact(key);
                throw new SSLException("OpenSSL: unsupported private key type " + type + " (RSA or EC only)");
            }
            return key.address();
        } catch (SSLException e) {
            throw e;
        } catch (Throwable e) {
            throw new SSLException("OpenSSL: " + e, e);
        }
    }

    @Override
    public byte[] sign(long key, int signatureScheme, byte[] input) throws SSLException {
        MemorySegment pkey = MemorySegment.ofAddress(key);
        boolean pss = (signatureScheme & 0xff00) == 0x0800;
        MemorySegment digest = switch (signatureScheme) {
            case 0x0201, 0x0203 -> sha1;
            case 0x0401, 0x0403, 0x0804 -> sha256;
            case 0x0501, 0x0503, 0x0805 -> sha384;
            case 0x0601, 0x0603, 0x0806 -> sha512;
            default -> throw new SSLException("OpenSSL: unsupported signature scheme 0x"
                    + Integer.toHexString(signatureScheme));
        };
        clearErrors();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment context = (MemorySegment) mdCtxNew.invokeExact();
            if (context.equals(MemorySegment.NULL)) {
                throw failure("EVP_MD_CTX_new");
            }
            try {
                MemorySegment keyContextOut = arena.allocate(ADDRESS);
                if ((int) digestSignInit.invokeExact(context, keyContextOut, digest, MemorySegment.NULL, pkey) != 1) {
                    throw failure("EVP_DigestSignInit");
                }
                if (pss) {
                    MemorySegment keyContext = keyContextOut.get(ADDRESS, 0);
                    if ((int) setRsaPadding.invokeExact(keyContext, RSA_PKCS1_PSS_PADDING) <= 0
                            || (int) setRsaPssSaltLength.invokeExact(keyContext, RSA_PSS_SALTLEN_DIGEST) <= 0) {
                        throw failure("RSA-PSS parameters");
                    }
                }
                MemorySegment message = copyIn(arena, input);
                Output signature = output(arena, pkey);
                if ((int) digestSign.invokeExact(context, signature.bytes(), signature.length(), message,
                        (long) input.length) != 1) {
                    throw failure("EVP_DigestSign");
                }
                return signature.toArray();
            } finally {
                mdCtxFree.invokeExact(context);
            }
        } catch (SSLException e) {
            throw e;
        } catch (Throwable e) {
            throw new SSLException("OpenSSL: " + e, e);
        }
    }

    @Override
    public byte[] decryptRaw(long key, byte[] input) throws SSLException {
        MemorySegment pkey = MemorySegment.ofAddress(key);
        clearErrors();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment context = (MemorySegment) pkeyCtxNew.invokeExact(pkey, MemorySegment.NULL);
            if (context.equals(MemorySegment.NULL)) {
                throw failure("EVP_PKEY_CTX_new");
            }
            try {
                if ((int) decryptInit.invokeExact(context) <= 0
                        || (int) setRsaPadding.invokeExact(context, RSA_NO_PADDING) <= 0) {
                    throw failure("EVP_PKEY_decrypt_init");
                }
                MemorySegment ciphertext = copyIn(arena, input);
                Output plaintext = output(arena, pkey);
                if ((int) decrypt.invokeExact(context, plaintext.bytes(), plaintext.length(), ciphertext,
                        (long) input.length) <= 0) {
                    throw failure("EVP_PKEY_decrypt");
                }
                byte[] result = plaintext.toArray();
                plaintext.bytes().fill((byte) 0); // the premaster secret does not linger in native memory
                return result;
            } finally {
                pkeyCtxFree.invokeExact(context);
            }
        } catch (SSLException e) {
            throw e;
        } catch (Throwable e) {
            throw new SSLException("OpenSSL: " + e, e);
        }
    }

    @Override
    public void free(long key) {
        try {
            pkeyFree.invokeExact(MemorySegment.ofAddress(key));
        } catch (Throwable e) {
            throw new IllegalStateException("EVP_PKEY_free", e);
        }
    }

    private static MemorySegment copyIn(Arena arena, byte[] bytes) {
        MemorySegment segment = arena.allocate(bytes.length);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return segment;
    }

    /** Room for a signature or decryption by {@code pkey}, and the in/out length cell OpenSSL fills. */
    private Output output(Arena arena, MemorySegment pkey) throws Throwable {
        int room = (int) pkeyGetSize.invokeExact(pkey);
        MemorySegment length = arena.allocate(JAVA_LONG);
        length.set(JAVA_LONG, 0, room);
        return new Output(arena.allocate(room), length);
    }

    private record Output(MemorySegment bytes, MemorySegment length) {
        byte[] toArray() {
            return bytes.asSlice(0, length.get(JAVA_LONG, 0)).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Whatever an earlier call left on this thread's error queue must not become our failure's reason. */
    private void clearErrors() throws SSLException {
        try {
            errClearError.invokeExact();
        } catch (Throwable e) {
            throw new SSLException("OpenSSL: " + e, e);
        }
    }

    /** Drains this thread's OpenSSL error queue into one exception; the first reason is the root one. */
    private SSLException failure(String operation) throws Throwable {
        StringBuilder reasons = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(256);
            for (int i = 0; i < 16; i++) { // bounded: the queue holds at most 16 entries
                long code = (long) errGetError.invokeExact();
                if (code == 0) {
                    break;
                }
                errErrorStringN.invokeExact(code, text, 256L);
                reasons.append(reasons.length() == 0 ? ": " : "; ").append(text.getString(0, StandardCharsets.US_ASCII));
            }
        }
        return new SSLException("OpenSSL " + operation + " failed" + reasons);
    }

    private static MemorySegment digest(SymbolLookup crypto, Linker linker, String name) throws Throwable {
        return (MemorySegment) handle(crypto, linker, name, FunctionDescriptor.of(ADDRESS)).invokeExact();
    }

    private static MethodHandle handle(SymbolLookup crypto, Linker linker, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = crypto.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libcrypto.so.3 has no " + name));
        return linker.downcallHandle(symbol, descriptor);
    }
}
