package dev.moonbeam.config;

import com.eclipsesource.json.Json;
import com.eclipsesource.json.JsonArray;
import com.eclipsesource.json.JsonValue;
import com.eclipsesource.json.ParseException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads {@code proxy_config.json} into a validated {@link ProxyConfig}, or explains in one
 * {@link ConfigException} what is wrong and where. Relative paths inside the file are resolved
 * against the MoonBeam home directory (the folder holding {@code conf/}), so the proxy behaves the
 * same from any working directory.
 *
 * <p>Runs on the control thread (start-up, reload), never on an event loop: it reads files and
 * resolves host names.
 */
public final class ConfigLoader {
    public static final String DEFAULT_LISTEN = "0.0.0.0:443";
    public static final String DEFAULT_LOG_FILE = "logs/moonbeam.log";
    public static final String SHIPPED_CERT_FILE = "conf/certs/server.pem";
    public static final String SHIPPED_KEY_FILE = "conf/certs/server.key";
    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** A config larger than this is certainly a mistake (a log file passed by accident). */
    private static final long MAX_FILE_BYTES = 4L * 1024 * 1024;

    /** Makes the development certificate pair when it is missing; returns true when it made it. */
    @FunctionalInterface
    public interface DevCertificateMaker {
        boolean ensure(Path certFile, Path keyFile) throws IOException;
    }

    private final Path home;
    private final DevCertificateMaker devCertificates;

    /**
     * @param home            the directory relative paths in the config are resolved against
     * @param devCertificates called when the shipped certificate pair is missing; only that pair,
     *                        so a mistyped production path is an error, never a silent self-signed cert
     */
    public ConfigLoader(Path home, DevCertificateMaker devCertificates) {
        this.home = home.toAbsolutePath().normalize();
        this.devCertificates = devCertificates;
    }

    public Path home() {
        return home;
    }

    public ProxyConfig load(Path file) throws ConfigException {
        JsonSection root = JsonSection.of(file, "", parse(file));
        ListenAddress listen = listenAddress(root.file(), "listen", root.string("listen", DEFAULT_LISTEN));
        int threads = root.integer("threads", 0, 0, ProxyConfig.MAX_THREADS);
        HealthCheckConfig healthCheck = HealthCheckSection.topLevel(root);
        List<BackendConfig> backends = backends(root, healthCheck);
        TlsConfig tls = tls(root.section("ssl"));
        Timeouts timeouts = timeouts(root.section("timeouts"));
        Limits limits = limits(root.section("limits"));
        LogConfig log = log(root.section("log"));
        Networks trustForwarded = networks(root, "trust_forwarded_headers");
        HttpListenerConfig httpListener = httpListener(root.section("http_listener"), tls != null);
        ObserveConfig observe = observe(root);
        WarmUpConfig warmUp = warmUp(root.section("warmup"));
        QueueConfig queue = queue(root.section("queue"));
        Networks proxyProtocolFrom = proxyProtocol(root.section("proxy_protocol"));
        Http2Config http2 = http2(root.section("http2"), tls != null);
        root.rejectUnknownKeys();
        if (httpListener != null && httpListener.listen().hostPort().port() == listen.hostPort().port()
                && listen.hostPort().port() != 0) {
            throw root.error("http_listener", "listens on port " + listen.hostPort().port() + ", the same as \"listen\"");
        }
        return new ProxyConfig(file, listen, threads, backends, tls, timeouts, limits, log, trustForwarded, httpListener,
                healthCheck, observe, warmUp, queue, proxyProtocolFrom, http2);
    }

    private static Http2Config http2(JsonSection section, boolean tls) throws ConfigException {
        if (section == null) {
            return Http2Config.DEFAULTS;
        }
        boolean explicit = section.has("enabled");
        boolean enabled = section.bool("enabled", Http2Config.DEFAULT_ENABLED);
        int streams = section.integer("max_concurrent_streams", Http2Config.DEFAULT_MAX_CONCURRENT_STREAMS, 1,
                Http2Config.MAX_MAX_CONCURRENT_STREAMS);
        boolean cleartext = section.bool("cleartext", false);
        section.rejectUnknownKeys();
        if (explicit && enabled && !tls) {
            throw section.error("enabled", "HTTP/2 is offered through TLS (ALPN h2): add an \"ssl\" section or set it to false");
        }
        return new Http2Config(enabled, streams, cleartext);
    }

    /**
     * {@code "resolve": "once"} (default: at load) or {@code "dns"} (every {@code resolve_interval}):
     * the interval, or null for once.
     */
    private static Duration resolveMode(JsonSection backend) throws ConfigException {
        String mode = backend.string("resolve", "once");
        if (mode.equals("once")) {
            if (backend.has("resolve_interval")) {
                backend.duration("resolve_interval", null, Duration.ZERO, Duration.ofDays(1)); // mark it read
                throw backend.error("resolve_interval", "only applies with \"resolve\": \"dns\"");
            }
            return null;
        }
        if (!mode.equals("dns")) {
            throw backend.error("resolve", "must be \"once\" (resolve at load) or \"dns\" (follow the name's"
                    + " records), found \"" + mode + "\"");
        }
        return backend.duration("resolve_interval", BackendConfig.DEFAULT_RESOLVE_INTERVAL, Duration.ofSeconds(1),
                Duration.ofHours(1));
    }

    /** {@code "proxy_protocol": {"from": [...]}}: the balancers that must (and alone may) send a PROXY header. */
    private static Networks proxyProtocol(JsonSection section) throws ConfigException {
        if (section == null) {
            return Networks.NONE;
        }
        if (section.value("from") == null) {
            section.rejectUnknownKeys();
            throw section.error("from", "is required: the addresses or CIDR ranges of the balancers that send the"
                    + " PROXY header, like [\"10.0.0.0/8\"] (true for every client)");
        }
        Networks from = networks(section, "from");
        section.rejectUnknownKeys();
        return from;
    }

    private static QueueConfig queue(JsonSection section) throws ConfigException {
        if (section == null) {
            return QueueConfig.DEFAULTS;
        }
        int maxWaiting = section.integer("max_waiting", QueueConfig.DEFAULT_MAX_WAITING, 0, QueueConfig.MAX_MAX_WAITING);
        java.time.Duration timeout = section.duration("timeout", QueueConfig.DEFAULT_TIMEOUT, java.time.Duration.ZERO,
                QueueConfig.MAX_TIMEOUT);
        section.rejectUnknownKeys();
        return new QueueConfig(maxWaiting, timeout);
    }

    private static WarmUpConfig warmUp(JsonSection section) throws ConfigException {
        if (section == null) {
            return WarmUpConfig.DEFAULTS;
        }
        boolean enabled = section.bool("enabled", true);
        java.time.Duration duration = section.duration("duration", WarmUpConfig.DEFAULT_DURATION,
                java.time.Duration.ZERO, WarmUpConfig.MAX_DURATION);
        section.rejectUnknownKeys();
        return enabled ? new WarmUpConfig(duration) : WarmUpConfig.OFF;
    }

    private JsonValue parse(Path file) throws ConfigException {
        String text;
        try {
            if (Files.isDirectory(file)) {
                throw new ConfigException(file, "", "is a directory, not a config file");
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException(file, "", "is larger than " + MAX_FILE_BYTES / 1024 + " KiB; is this the right file?");
            }
            byte[] bytes = Files.readAllBytes(file);
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new ConfigException(file, "", "file not found (pass another with --config FILE)");
        } catch (AccessDeniedException e) {
            throw new ConfigException(file, "", "permission denied reading the file");
        } catch (CharacterCodingException e) {
            throw new ConfigException(file, "", "is not valid UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException(file, "", "cannot be read: " + e.getMessage(), e);
        }
        if (text.isBlank()) {
            throw new ConfigException(file, "", "is empty; expected a JSON object");
        }
        try {
            return Json.parse(text);
        } catch (ParseException e) {
            // minimal-json's line and column are 1-based and point at the offending character.
            throw new ConfigException(file, "", "invalid JSON at line " + e.getLocation().line + ", column "
                    + e.getLocation().column + ": " + stripLocation(e.getMessage()), e);
        }
    }

    private static String stripLocation(String message) {
        int at = message.lastIndexOf(" at ");
        return at > 0 ? message.substring(0, at) : message;
    }

    private ListenAddress listenAddress(Path file, String keyPath, String text) throws ConfigException {
        HostPort hostPort;
        try {
            hostPort = HostPort.parseListen(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file, keyPath, e.getMessage());
        }
        return new ListenAddress(hostPort, resolve(file, keyPath, hostPort));
    }

    /** Parses a {@code --listen [HOST:]PORT} value the same way as the config's {@code listen}. */
    public ListenAddress parseListen(Path file, String text) throws ConfigException {
        return listenAddress(file, "--listen", text);
    }

    private static InetSocketAddress resolve(Path file, String keyPath, HostPort hostPort) throws ConfigException {
        try {
            return new InetSocketAddress(InetAddress.getByName(hostPort.host()), hostPort.port());
        } catch (UnknownHostException e) {
            throw new ConfigException(file, keyPath, "cannot resolve host \"" + hostPort.host() + "\"");
        }
    }

    private List<BackendConfig> backends(JsonSection root, HealthCheckConfig healthCheck) throws ConfigException {
        JsonArray array = root.array("backend_servers");
        if (array == null) {
            root.rejectMisspellingOf("backend_servers");
            throw root.error("backend_servers", "is required: a list of \"host:port\" backends");
        }
        if (array.isEmpty()) {
            throw root.error("backend_servers", "is empty; list at least one \"host:port\" backend");
        }
        List<BackendConfig> backends = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String keyPath = root.keyPath("backend_servers") + "[" + i + "]";
            JsonValue entry = array.get(i);
            String address;
            int weight = BackendConfig.DEFAULT_WEIGHT;
            int maxConnections = BackendConfig.UNLIMITED;
            boolean sendProxyProtocol = false;
            Duration resolveInterval = null;
            HealthCheckConfig backendHealthCheck = healthCheck;
            if (entry.isString()) {
                address = entry.asString();
            } else if (entry.isObject()) {
                JsonSection backend = JsonSection.of(root.file(), keyPath, entry);
                address = backend.requiredString("address");
                weight = backend.integer("weight", BackendConfig.DEFAULT_WEIGHT, 1, BackendConfig.MAX_WEIGHT);
                maxConnections = backend.integer("max_connections", BackendConfig.UNLIMITED, 1,
                        BackendConfig.MAX_MAX_CONNECTIONS);
                sendProxyProtocol = backend.bool("send_proxy_protocol", false);
                resolveInterval = resolveMode(backend);
                backendHealthCheck = HealthCheckSection.backend(backend, healthCheck);
                backend.rejectUnknownKeys();
                keyPath = backend.keyPath("address");
            } else {
                throw new ConfigException(root.file(), keyPath,
                        "must be \"host:port\" or {\"address\": \"host:port\", \"weight\": N}, found " + JsonSection.describe(entry));
            }
            HostPort hostPort;
            try {
                hostPort = HostPort.parse(address, null);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(root.file(), keyPath, e.getMessage());
            }
            for (BackendConfig existing : backends) {
                if (existing.hostPort().equals(hostPort)) {
                    throw new ConfigException(root.file(), keyPath, "\"" + hostPort + "\" is listed twice; use \"weight\" to give it more traffic");
                }
            }
            // A discovered entry is resolved off the loops, again and again; a failed lookup there is
            // not a config error (the name may have no records yet, as a scaled-to-zero Service).
            InetSocketAddress resolved = resolveInterval != null
                    ? InetSocketAddress.createUnresolved(hostPort.host(), hostPort.port())
                    : resolve(root.file(), keyPath, hostPort);
            backends.add(new BackendConfig(hostPort, resolved, weight, backendHealthCheck,
                    maxConnections, sendProxyProtocol, resolveInterval));
        }
        return backends;
    }

    private TlsConfig tls(JsonSection ssl) throws ConfigException {
        if (ssl == null) {
            return null;
        }
        List<CertificateConfig> certificates = new ArrayList<>();
        boolean single = ssl.has("cert_file") || ssl.has("key_file") || ssl.has("keystore_file") || ssl.has("keystore_password");
        if (single) {
            certificates.add(certificate(ssl));
        }
        JsonArray list = ssl.array("certificates");
        if (list != null) {
            for (int i = 0; i < list.size(); i++) {
                JsonSection entry = JsonSection.of(ssl.file(), ssl.keyPath("certificates") + "[" + i + "]", list.get(i));
                certificates.add(certificate(entry));
                entry.rejectUnknownKeys();
            }
        }
        List<String> protocols = stringList(ssl, "protocols", DEFAULT_PROTOCOLS);
        for (String protocol : protocols) {
            if (!protocol.equals("TLSv1.3") && !protocol.equals("TLSv1.2")) {
                throw ssl.error("protocols", "\"" + protocol + "\" is not supported; use \"TLSv1.3\" and/or \"TLSv1.2\"");
            }
        }
        List<String> ciphers = stringList(ssl, "ciphers", List.of());
        String provider = ssl.string("provider", TlsConfig.PROVIDER_AUTO);
        if (!TlsConfig.PROVIDERS.contains(provider)) {
            throw ssl.error("provider", "\"" + provider + "\" is not a TLS provider; use \"auto\", \"native\" or \"jdk\"");
        }
        ssl.rejectUnknownKeys();
        if (certificates.isEmpty()) {
            throw new ConfigException(ssl.file(), ssl.path(),
                    "needs a certificate: \"cert_file\" and \"key_file\" (PEM), \"keystore_file\" (PKCS#12), or \"certificates\": [...]");
        }
        return new TlsConfig(certificates, protocols, ciphers, provider);
    }

    private CertificateConfig certificate(JsonSection section) throws ConfigException {
        String certFile = section.string("cert_file", null);
        String keyFile = section.string("key_file", null);
        String keystoreFile = section.string("keystore_file", null);
        String keystorePassword = section.string("keystore_password", null);
        if (keystoreFile != null) {
            if (certFile != null || keyFile != null) {
                throw section.error("keystore_file", "give either \"keystore_file\" or \"cert_file\"/\"key_file\", not both");
            }
            Path keystore = readableFile(section, "keystore_file", keystoreFile);
            return new CertificateConfig(section.path(), null, null, keystore, keystorePassword == null ? "" : keystorePassword);
        }
        if (keystorePassword != null) {
            throw section.error("keystore_password", "is set but \"keystore_file\" is not");
        }
        if (certFile == null) {
            throw section.error("cert_file", "is required (a PEM certificate chain) when \"key_file\" is set");
        }
        if (keyFile == null) {
            throw section.error("key_file", "is required (a PEM private key) when \"cert_file\" is set");
        }
        Path cert = home.resolve(certFile).normalize();
        Path key = home.resolve(keyFile).normalize();
        makeShippedCertificateIfMissing(section, cert, key);
        return new CertificateConfig(section.path(), readableFile(section, "cert_file", certFile),
                readableFile(section, "key_file", keyFile), null, null);
    }

    private void makeShippedCertificateIfMissing(JsonSection section, Path cert, Path key) throws ConfigException {
        boolean shipped = cert.equals(home.resolve(SHIPPED_CERT_FILE)) && key.equals(home.resolve(SHIPPED_KEY_FILE));
        if (!shipped || devCertificates == null || Files.exists(cert) || Files.exists(key)) {
            return;
        }
        try {
            devCertificates.ensure(cert, key);
        } catch (IOException e) {
            throw section.error("cert_file", "the development certificate could not be created at " + cert + ": " + e.getMessage());
        }
    }

    private Path readableFile(JsonSection section, String key, String value) throws ConfigException {
        if (value.isBlank()) {
            throw section.error(key, "must not be empty");
        }
        Path path = home.resolve(value).normalize();
        if (!Files.exists(path)) {
            throw section.error(key, "file not found: " + path);
        }
        if (Files.isDirectory(path)) {
            throw section.error(key, "is a directory, not a file: " + path);
        }
        if (!Files.isReadable(path)) {
            throw section.error(key, "permission denied reading " + path);
        }
        return path;
    }

    private static List<String> stringList(JsonSection section, String key, List<String> defaults) throws ConfigException {
        JsonArray array = section.array(key);
        if (array == null) {
            return defaults;
        }
        if (array.isEmpty()) {
            throw section.error(key, "must not be empty");
        }
        List<String> values = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonValue value = array.get(i);
            if (!value.isString() || value.asString().isBlank()) {
                throw new ConfigException(section.file(), section.keyPath(key) + "[" + i + "]", "must be a non-empty string");
            }
            values.add(value.asString());
        }
        return values;
    }

    private HttpListenerConfig httpListener(JsonSection section, boolean tls) throws ConfigException {
        if (section == null) {
            return null;
        }
        ListenAddress listen = listenAddress(section.file(), section.keyPath("listen"), section.string("listen", "0.0.0.0:80"));
        String actionText = section.string("action", "redirect");
        HttpListenerConfig.Action action = switch (actionText) {
            case "redirect" -> HttpListenerConfig.Action.REDIRECT;
            case "proxy" -> HttpListenerConfig.Action.PROXY;
            default -> throw section.error("action", "\"" + actionText + "\" is not an action; use \"redirect\" (301 to HTTPS) or \"proxy\"");
        };
        section.rejectUnknownKeys();
        if (action == HttpListenerConfig.Action.REDIRECT && !tls) {
            throw section.error("action", "\"redirect\" sends clients to HTTPS, but there is no \"ssl\" section");
        }
        return new HttpListenerConfig(listen, action);
    }

    private ObserveConfig observe(JsonSection root) throws ConfigException {
        Path accessLog = null;
        int queue = ObserveConfig.DEFAULT_ACCESS_LOG_QUEUE;
        JsonSection log = root.section("access_log");
        if (log != null) {
            // Like log.file: null or "" switches it off.
            String file = log.hasExplicitNull("file") ? "" : log.string("file", "logs/access.log");
            accessLog = file.isEmpty() ? null : home.resolve(file).normalize();
            queue = log.integer("queue", ObserveConfig.DEFAULT_ACCESS_LOG_QUEUE, 16, 1 << 20);
            log.rejectUnknownKeys();
        }
        ListenAddress admin = null;
        JsonSection adminSection = root.section("admin");
        if (adminSection != null) {
            admin = listenAddress(adminSection.file(), adminSection.keyPath("listen"),
                    adminSection.string("listen", "127.0.0.1:9901"));
            adminSection.rejectUnknownKeys();
        }
        return new ObserveConfig(accessLog, queue, admin);
    }

    private static Timeouts timeouts(JsonSection section) throws ConfigException {
        Timeouts d = Timeouts.DEFAULTS;
        if (section == null) {
            return d;
        }
        Duration min = Duration.ofMillis(1);
        Duration max = Duration.ofDays(1);
        Timeouts timeouts = new Timeouts(
                section.duration("client_head", d.clientHead(), min, max),
                section.duration("client_idle", d.clientIdle(), min, max),
                section.duration("tls_handshake", d.tlsHandshake(), min, max),
                section.duration("backend_connect", d.backendConnect(), min, max),
                section.duration("backend_response", d.backendResponse(), min, max),
                section.duration("backend_idle", d.backendIdle(), min, max),
                section.duration("shutdown_drain", d.shutdownDrain(), Duration.ZERO, max),
                section.duration("loop_stall_warning", d.loopStallWarning(), Duration.ZERO, Duration.ofMinutes(10)),
                section.duration("client_body", d.clientBody(), Duration.ZERO, max),
                // Longer than a balancer's health-check interval times its fall count, not hours.
                section.duration("shutdown_delay", d.shutdownDelay(), Duration.ZERO, Duration.ofMinutes(10)));
        section.rejectUnknownKeys();
        return timeouts;
    }

    private static Limits limits(JsonSection section) throws ConfigException {
        Limits d = Limits.DEFAULTS;
        if (section == null) {
            return d;
        }
        int maxHeaderBytes = (int) section.size("max_header_bytes", d.maxHeaderBytes(), 1024, 1024 * 1024);
        int maxRequestLine = (int) section.size("max_request_line", d.maxRequestLine(), 256, 1024 * 1024);
        Limits limits = new Limits(
                maxRequestLine,
                maxHeaderBytes,
                section.integer("max_header_count", d.maxHeaderCount(), 1, 10_000),
                (int) section.size("max_chunk_extension", d.maxChunkExtension(), 0, 1024 * 1024),
                section.size("max_body_bytes", d.maxBodyBytes(), 0, Long.MAX_VALUE / 2),
                section.integer("max_idle_per_backend", d.maxIdlePerBackend(), 0, 100_000),
                section.integer("max_client_connections", d.maxClientConnections(), 0, 100_000_000));
        if (maxRequestLine > maxHeaderBytes) {
            throw section.error("max_request_line", "(" + maxRequestLine + ") must not exceed max_header_bytes (" + maxHeaderBytes + ")");
        }
        section.rejectUnknownKeys();
        return limits;
    }

    private LogConfig log(JsonSection section) throws ConfigException {
        if (section == null) {
            return new LogConfig(home.resolve(DEFAULT_LOG_FILE), System.Logger.Level.INFO);
        }
        Path file = null;
        JsonValue fileValue = section.value("file");
        if (fileValue == null && !section.hasExplicitNull("file")) {
            file = home.resolve(DEFAULT_LOG_FILE);
        } else if (fileValue != null) {
            String text = section.string("file", null);
            file = text.isEmpty() ? null : home.resolve(text).normalize();
        }
        String levelText = section.string("level", "info");
        System.Logger.Level level = switch (levelText.toLowerCase(Locale.ROOT)) {
            case "debug" -> System.Logger.Level.DEBUG;
            case "info" -> System.Logger.Level.INFO;
            case "warning", "warn" -> System.Logger.Level.WARNING;
            case "error" -> System.Logger.Level.ERROR;
            default -> throw section.error("level", "\"" + levelText + "\" is not a level; use \"debug\", \"info\", \"warning\" or \"error\"");
        };
        section.rejectUnknownKeys();
        return new LogConfig(file, level);
    }

    /**
     * {@code true} (every address), {@code false} (none) or a list of addresses and CIDR ranges.
     * Absent means none.
     */
    static Networks networks(JsonSection section, String key) throws ConfigException {
        JsonValue value = section.value(key);
        if (value == null) {
            return Networks.NONE;
        }
        if (value.isBoolean()) {
            return value.asBoolean() ? Networks.ALL : Networks.NONE;
        }
        if (!value.isArray()) {
            throw section.error(key, "must be true, false or a list of addresses and CIDR ranges like [\"10.0.0.0/8\"], found "
                    + JsonSection.describe(value));
        }
        List<Cidr> ranges = new ArrayList<>();
        JsonArray array = value.asArray();
        for (int i = 0; i < array.size(); i++) {
            JsonValue item = array.get(i);
            String where = key + "[" + i + "]";
            if (!item.isString()) {
                throw section.error(where, "must be a string like \"10.0.0.0/8\", found " + JsonSection.describe(item));
            }
            try {
                ranges.add(Cidr.parse(item.asString()));
            } catch (IllegalArgumentException e) {
                throw section.error(where, e.getMessage());
            }
        }
        return Networks.of(ranges);
    }
}
