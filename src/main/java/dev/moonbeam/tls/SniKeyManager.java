package dev.moonbeam.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Picks the certificate for a handshake from the client's SNI name (RFC 6066 §3): an exact name
 * first, then a {@code *.} wildcard one label deep (RFC 6125 §6.4.3), else the first configured
 * certificate, which is the default for clients sending no SNI or an unknown name. Aliases are the
 * indexes into the list. Immutable; called by any loop thread's handshakes.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
    private final List<KeyMaterial> certificates;

    SniKeyManager(List<KeyMaterial> certificates) {
        this.certificates = List.copyOf(certificates);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType, requestedHostName(engine == null ? null : engine.getHandshakeSession()));
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return choose(keyType, null);
    }

    /**
     * The JDK asks once per key type the client can verify, in the client's order. When the name
     * matches certificates, only those may answer: returning null for a key type they lack makes
     * the JDK ask for the next type instead of serving the default certificate for the wrong name.
     */
    String choose(String keyType, String hostName) {
        List<Integer> named = hostName == null ? List.of() : matching(hostName);
        List<Integer> candidates = named.isEmpty() ? defaultGroup() : named;
        for (int index : candidates) {
            if (keyTypeMatches(keyType, certificates.get(index))) {
                return Integer.toString(index);
            }
        }
        return null;
    }

    private List<Integer> matching(String hostName) {
        List<Integer> exact = new ArrayList<>();
        List<Integer> wildcard = new ArrayList<>();
        int dot = hostName.indexOf('.');
        String wildcardForm = dot > 0 ? "*" + hostName.substring(dot) : null;
        for (int i = 0; i < certificates.size(); i++) {
            List<String> names = certificates.get(i).hostNames();
            if (names.contains(hostName)) {
                exact.add(i);
            } else if (wildcardForm != null && names.contains(wildcardForm)) {
                wildcard.add(i);
            }
        }
        return exact.isEmpty() ? wildcard : exact;
    }

    /**
     * Without a matching name the first certificate is the default, together with any other that
     * serves exactly its names (an RSA and an EC certificate for the same site). Offering every
     * certificate instead would let the JDK's key-type order pick an unrelated site's certificate.
     */
    private List<Integer> defaultGroup() {
        List<String> defaultNames = certificates.get(0).hostNames();
        List<Integer> group = new ArrayList<>(certificates.size());
        for (int i = 0; i < certificates.size(); i++) {
            if (i == 0 || certificates.get(i).hostNames().equals(defaultNames)) {
                group.add(i);
            }
        }
        return group;
    }

    private static boolean keyTypeMatches(String keyType, KeyMaterial material) {
        String algorithm = material.key().getAlgorithm();
        // TLS 1.2 names ECDH/EC combos "EC_EC" / "EC_RSA" by key then signer; the key part decides.
        int underscore = keyType.indexOf('_');
        String wanted = underscore > 0 ? keyType.substring(0, underscore) : keyType;
        return wanted.equals(algorithm);
    }

    private static String requestedHostName(SSLSession session) {
        if (!(session instanceof ExtendedSSLSession extended)) {
            return null;
        }
        for (SNIServerName name : extended.getRequestedServerNames()) {
            if (name instanceof SNIHostName host) {
                return host.getAsciiName().toLowerCase(Locale.ROOT);
            }
        }
        return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        KeyMaterial material = byAlias(alias);
        return material == null ? null : material.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        KeyMaterial material = byAlias(alias);
        return material == null ? null : material.key();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        List<String> aliases = new ArrayList<>();
        for (int i = 0; i < certificates.size(); i++) {
            if (keyTypeMatches(keyType, certificates.get(i))) {
                aliases.add(Integer.toString(i));
            }
        }
        return aliases.isEmpty() ? null : aliases.toArray(new String[0]);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null; // server only
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }

    private KeyMaterial byAlias(String alias) {
        try {
            int index = Integer.parseInt(alias);
            return index >= 0 && index < certificates.size() ? certificates.get(index) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
