package dev.moonbeam.tls;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Committed test keys (see src/test/resources/dev/moonbeam/tls/README.txt) and client contexts. */
final class Fixtures {
    private Fixtures() {
    }

    static Path resource(String name) {
        try {
            return Path.of(Fixtures.class.getResource(name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource " + name, e);
        }
    }

    static KeyMaterial ec() throws TlsMaterialException {
        return KeyMaterial.fromPem(resource("ec.crt"), resource("ec-sec1.key"));
    }

    static KeyMaterial rsa() throws TlsMaterialException {
        return KeyMaterial.fromPem(resource("rsa.crt"), resource("rsa-pkcs1.key"));
    }

    /** A client context trusting exactly these certificates (leafs of self-signed material). */
    static SSLContext clientTrusting(List<KeyMaterial> materials) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (KeyMaterial material : materials) {
            X509Certificate last = material.chain().get(material.chain().size() - 1);
            trust.setCertificateEntry("c" + i++, last);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
