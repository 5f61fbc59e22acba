package dev.moonbeam.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * One certificate chain (leaf first), its private key and the DNS names it serves (the leaf's SAN
 * dNSName entries, or its CN when it has none, RFC 6125 §6.4.4), lower-cased. Immutable.
 */
public record KeyMaterial(List<X509Certificate> chain, PrivateKey key, List<String> hostNames) {
    private static final int SAN_DNS_NAME = 2; // GeneralName dNSName, RFC 5280 §4.2.1.6

    public KeyMaterial {
        chain = List.copyOf(chain);
        hostNames = List.copyOf(hostNames);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("certificate chain is empty");
        }
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    /** PEM chain plus PEM key, checked to belong together. */
    public static KeyMaterial fromPem(Path certFile, Path keyFile) throws TlsMaterialException {
        List<X509Certificate> chain = PemFiles.readCertificateChain(certFile);
        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        PemFiles.checkKeyMatches(keyFile, key, chain.get(0));
        return new KeyMaterial(chain, key, hostNamesOf(certFile, chain.get(0)));
    }

    /** The first key entry of a PKCS#12 keystore; the key password is the store password. */
    public static KeyMaterial fromPkcs12(Path file, char[] password) throws TlsMaterialException {
        KeyStore store;
        try (InputStream in = Files.newInputStream(file)) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
        } catch (NoSuchFileException e) {
            throw new TlsMaterialException(file, "file does not exist", e);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new TlsMaterialException(file, "wrong keystore password", e);
            }
            throw new TlsMaterialException(file, "is not a readable PKCS#12 keystore: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException(file, "is not a readable PKCS#12 keystore: " + e.getMessage(), e);
        }
        try {
            Enumeration<String> aliases = store.aliases();
            while (aliases.hasMoreElements()) {
                String alias = aliases.nextElement();
                if (!store.isKeyEntry(alias)) {
                    continue;
                }
                Key key = store.getKey(alias, password);
                Certificate[] certificates = store.getCertificateChain(alias);
                if (!(key instanceof PrivateKey privateKey) || certificates == null || certificates.length == 0) {
                    continue;
                }
                List<X509Certificate> chain = new ArrayList<>();
                for (Certificate certificate : certificates) {
                    chain.add((X509Certificate) certificate);
                }
                PemFiles.checkKeyMatches(file, privateKey, chain.get(0));
                return new KeyMaterial(chain, privateKey, hostNamesOf(file, chain.get(0)));
            }
        } catch (UnrecoverableKeyException e) {
            throw new TlsMaterialException(file, "wrong password for the private key entry", e);
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException(file, "cannot read key entry: " + e.getMessage(), e);
        }
        throw new TlsMaterialException(file, "keystore has no private key entry with a certificate chain");
    }

    static List<String> hostNamesOf(Path file, X509Certificate leaf) throws TlsMaterialException {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (((Integer) san.get(0)) == SAN_DNS_NAME) {
                        names.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
            if (names.isEmpty()) {
                for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        names.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException | InvalidNameException e) {
            throw new TlsMaterialException(file, "certificate names cannot be parsed: " + e.getMessage(), e);
        }
        return names;
    }
}
