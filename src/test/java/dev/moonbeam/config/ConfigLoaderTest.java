package dev.moonbeam.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
    @TempDir
    Path home;
    Path file;
    ConfigLoader loader;
    final List<Path> madeCertificates = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        file = home.resolve("conf/proxy_config.json");
        Files.createDirectories(file.getParent());
        Files.createDirectories(home.resolve("certs"));
        Files.writeString(home.resolve("certs/a.pem"), "cert");
        Files.writeString(home.resolve("certs/a.key"), "key");
        Files.writeString(home.resolve("certs/a.p12"), "p12");
        loader = new ConfigLoader(home, (cert, key) -> {
            madeCertificates.add(cert);
            Files.createDirectories(cert.getParent());
            Files.writeString(cert, "generated cert");
            Files.writeString(key, "generated key");
            return true;
        });
    }

    private ProxyConfig load(String json) throws ConfigException {
        try {
            Files.writeString(file, json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return loader.load(file);
    }

    @Test
    void shippedShapeLoadsWithDefaults() throws Exception {
        ProxyConfig config = load("""
                {
                  "listen": "0.0.0.0:443",
                  "threads": 0,
                  "backend_servers": ["127.0.0.1:8081", "127.0.0.1:8082"],
                  "ssl": { "cert_file": "certs/a.pem", "key_file": "certs/a.key" }
                }
                """);
        assertThat(config.listen().hostPort()).isEqualTo(new HostPort("0.0.0.0", 443));
        assertThat(config.threads()).isZero();
        assertThat(config.effectiveThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(config.backends()).extracting(b -> b.hostPort().toString()).containsExactly("127.0.0.1:8081", "127.0.0.1:8082");
        assertThat(config.backends()).extracting(BackendConfig::weight).containsExactly(1, 1);
        assertThat(config.backends().get(0).address().getPort()).isEqualTo(8081);
        assertThat(config.tls().certificates()).singleElement().satisfies(c -> {
            assertThat(c.certFile()).isEqualTo(home.resolve("certs/a.pem"));
            assertThat(c.keyFile()).isEqualTo(home.resolve("certs/a.key"));
        });
        assertThat(config.tls().protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(config.timeouts()).isEqualTo(Timeouts.DEFAULTS);
        assertThat(config.limits()).isEqualTo(Limits.DEFAULTS);
        assertThat(config.log().file()).isEqualTo(home.resolve("logs/moonbeam.log"));
        assertThat(config.trustForwardedHeaders()).isEqualTo(Networks.NONE);
    }

    @Test
    void minimalConfigIsPlainHttpOn443() throws Exception {
        ProxyConfig config = load("{\"backend_servers\": [\"localhost:9000\"]}");
        assertThat(config.isTls()).isFalse();
        assertThat(config.listen().address().getPort()).isEqualTo(443);
        assertThat(config.backends().get(0).address().getAddress().isLoopbackAddress()).isTrue();
    }

    @Test
    void everyOptionalKeyIsRead() throws Exception {
        ProxyConfig config = load("""
                {
                  "listen": "127.0.0.1:8443",
                  "threads": 3,
                  "backend_servers": [{"address": "127.0.0.1:8081", "weight": 3}, "[::1]:8082"],
                  "ssl": {"certificates": [{"cert_file": "certs/a.pem", "key_file": "certs/a.key"},
                                           {"keystore_file": "certs/a.p12", "keystore_password": "secret"}],
                          "protocols": ["TLSv1.3"]},
                  "timeouts": {"client_head": "2s", "client_idle": 90, "tls_handshake": "500ms", "backend_connect": "1.5s",
                               "backend_response": "2m", "backend_idle": "4s", "shutdown_drain": 0,
                               "loop_stall_warning": "250ms", "shutdown_delay": "5s"},
                  "limits": {"max_request_line": "4k", "max_header_bytes": "16k", "max_header_count": 50,
                             "max_chunk_extension": 256, "max_body_bytes": "1m", "max_idle_per_backend": 8,
                             "max_client_connections": 5000},
                  "log": {"file": "var/mb.log", "level": "debug"},
                  "trust_forwarded_headers": true
                }
                """);
        assertThat(config.threads()).isEqualTo(3);
        assertThat(config.backends()).extracting(BackendConfig::weight).containsExactly(3, 1);
        assertThat(config.backends().get(1).hostPort()).isEqualTo(new HostPort("::1", 8082));
        assertThat(config.tls().certificates()).hasSize(2);
        assertThat(config.tls().certificates().get(1).isKeystore()).isTrue();
        assertThat(config.tls().certificates().get(1).keystorePassword()).isEqualTo("secret");
        assertThat(config.tls().protocols()).containsExactly("TLSv1.3");
        assertThat(config.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(90),
                Duration.ofMillis(500), Duration.ofMillis(1500), Duration.ofMinutes(2), Duration.ofSeconds(4), Duration.ZERO,
                Duration.ofMillis(250), Duration.ZERO, Duration.ofSeconds(5)));
        assertThat(config.limits()).isEqualTo(new Limits(4096, 16384, 50, 256, 1024 * 1024, 8, 5000));
        assertThat(config.log().file()).isEqualTo(home.resolve("var/mb.log"));
        assertThat(config.log().level()).isEqualTo(System.Logger.Level.DEBUG);
        assertThat(config.trustForwardedHeaders()).isEqualTo(Networks.ALL);
    }

    @Test
    void backendLimitsAndTheQueueHaveDefaultsAndAreRead() throws Exception {
        ProxyConfig defaults = load("{\"backend_servers\": [\"127.0.0.1:1\"]}");
        assertThat(defaults.backends().get(0).maxConnections()).isEqualTo(BackendConfig.UNLIMITED);
        assertThat(defaults.queue()).isEqualTo(QueueConfig.DEFAULTS);
        assertThat(defaults.queue().timeout()).isEqualTo(Duration.ofSeconds(5));
        ProxyConfig set = load("""
                {"backend_servers": [{"address": "127.0.0.1:1", "max_connections": 20}, "127.0.0.1:2"],
                 "queue": {"max_waiting": 300, "timeout": "750ms"}}
                """);
        assertThat(set.backends()).extracting(BackendConfig::maxConnections).containsExactly(20, BackendConfig.UNLIMITED);
        assertThat(set.queue()).isEqualTo(new QueueConfig(300, Duration.ofMillis(750)));
    }

    @Test
    void trustedForwardersAreAListOfRangesOrTheBooleanShorthand() throws Exception {
        ProxyConfig listed = load("{\"backend_servers\": [\"127.0.0.1:1\"],"
                + " \"trust_forwarded_headers\": [\"10.0.0.0/8\", \"192.168.1.5\", \"fd00::/8\", \"::1\"]}");
        assertThat(listed.trustForwardedHeaders().ranges()).containsExactly(Cidr.parse("10.0.0.0/8"),
                Cidr.parse("192.168.1.5/32"), Cidr.parse("fd00::/8"), Cidr.parse("::1/128"));
        assertThat(load("{\"backend_servers\": [\"127.0.0.1:1\"], \"trust_forwarded_headers\": false}").trustForwardedHeaders())
                .isEqualTo(Networks.NONE);
        assertThat(load("{\"backend_servers\": [\"127.0.0.1:1\"], \"trust_forwarded_headers\": []}").trustForwardedHeaders())
                .isEqualTo(Networks.NONE);
    }

    @Test
    void proxyProtocolIsOffUnlessConfiguredAndBackendsCanAskForIt() throws Exception {
        ProxyConfig plain = load("{\"backend_servers\": [\"127.0.0.1:1\"]}");
        assertThat(plain.proxyProtocolFrom()).isEqualTo(Networks.NONE);
        assertThat(plain.backends().get(0).sendProxyProtocol()).isFalse();
        ProxyConfig set = load("{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"send_proxy_protocol\": true}],"
                + " \"proxy_protocol\": {\"from\": [\"10.0.0.0/8\", \"fd00::/8\"]}}");
        assertThat(set.proxyProtocolFrom().ranges()).containsExactly(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"));
        assertThat(set.backends().get(0).sendProxyProtocol()).isTrue();
    }

    @Test
    void http2IsOnByDefaultAndCanBeTurnedOffOrBounded() throws Exception {
        ProxyConfig plain = load("{\"backend_servers\": [\"127.0.0.1:1\"]}");
        assertThat(plain.http2().enabled()).isTrue();
        assertThat(plain.http2().maxConcurrentStreams()).isEqualTo(128);
        assertThat(plain.http2().cleartext()).isFalse();
        ProxyConfig set = load("{\"backend_servers\": [\"127.0.0.1:1\"],"
                + " \"http2\": {\"enabled\": false, \"max_concurrent_streams\": 16}}");
        assertThat(set.http2().enabled()).isFalse();
        assertThat(set.http2().maxConcurrentStreams()).isEqualTo(16);
        // Without TLS there is no ALPN, so the default does not matter and is no error.
        assertThat(load("{\"backend_servers\": [\"127.0.0.1:1\"], \"http2\": {\"max_concurrent_streams\": 8}}")
                .http2().maxConcurrentStreams()).isEqualTo(8);
    }

    @Test
    void aDnsBackendIsNotResolvedAtLoadAndHasAnInterval() throws Exception {
        ProxyConfig config = load("{\"backend_servers\": [\"127.0.0.1:1\","
                + " {\"address\": \"no-such-name.invalid:8080\", \"resolve\": \"dns\"},"
                + " {\"address\": \"other.invalid:9000\", \"resolve\": \"dns\", \"resolve_interval\": \"30s\"}]}");
        assertThat(config.backends()).extracting(BackendConfig::isDiscovered).containsExactly(false, true, true);
        assertThat(config.backends().get(1).resolveInterval()).isEqualTo(BackendConfig.DEFAULT_RESOLVE_INTERVAL);
        assertThat(config.backends().get(1).address().isUnresolved()).isTrue();
        assertThat(config.backends().get(2).resolveInterval()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void logFileCanBeSwitchedOff() throws Exception {
        assertThat(load("{\"backend_servers\": [\"127.0.0.1:1\"], \"log\": {\"file\": null}}").log().file()).isNull();
        assertThat(load("{\"backend_servers\": [\"127.0.0.1:1\"], \"log\": {\"file\": \"\"}}").log().file()).isNull();
    }

    @Test
    void accessLogAndAdminAreOffUnlessConfigured() throws Exception {
        ProxyConfig plain = load("{\"backend_servers\": [\"127.0.0.1:1\"]}");
        assertThat(plain.observe().accessLog()).isNull();
        assertThat(plain.observe().admin()).isNull();
        ProxyConfig on = load("{\"backend_servers\": [\"127.0.0.1:1\"], \"access_log\": {}, \"admin\": {}}");
        assertThat(on.observe().accessLog()).isEqualTo(home.resolve("logs/access.log"));
        assertThat(on.observe().admin().hostPort()).isEqualTo(new HostPort("127.0.0.1", 9901));
        ProxyConfig off = load("{\"backend_servers\": [\"127.0.0.1:1\"], \"access_log\": {\"file\": null}}");
        assertThat(off.observe().accessLog()).isNull();
    }

    @Test
    void shippedCertificatePairIsGeneratedWhenMissing() throws Exception {
        ProxyConfig config = load("{\"backend_servers\": [\"127.0.0.1:1\"],"
                + " \"ssl\": {\"cert_file\": \"conf/certs/server.pem\", \"key_file\": \"conf/certs/server.key\"}}");
        assertThat(madeCertificates).containsExactly(home.resolve("conf/certs/server.pem"));
        assertThat(config.tls().certificates().get(0).certFile()).exists();
    }

    @Test
    void otherMissingCertificatesAreAnErrorNotASelfSignedSurprise() {
        assertThatThrownBy(() -> load("{\"backend_servers\": [\"127.0.0.1:1\"],"
                + " \"ssl\": {\"cert_file\": \"certs/prod.pem\", \"key_file\": \"certs/prod.key\"}}"))
                .hasMessage(file + ": ssl.cert_file: file not found: " + home.resolve("certs/prod.pem"));
        assertThat(madeCertificates).isEmpty();
    }

    @Test
    void healthCheckIsOffWhenAbsentAndReadWithPerBackendOverrides() throws Exception {
        ProxyConfig plain = load("{\"backend_servers\": [\"127.0.0.1:8081\"]}");
        assertThat(plain.healthCheck()).isEqualTo(HealthCheckConfig.DISABLED);
        assertThat(plain.backends().get(0).healthCheck().enabled()).isFalse();

        ProxyConfig config = load("""
                {
                  "backend_servers": ["127.0.0.1:8081",
                                      {"address": "127.0.0.1:8082", "weight": 2, "health_check": false},
                                      {"address": "127.0.0.1:8083", "health_check": {"path": "/ready"}},
                                      {"address": "127.0.0.1:8084", "health_check": true}],
                  "health_check": {"path": "/healthz", "interval": "5s", "timeout": "500ms", "healthy_threshold": 1,
                                   "unhealthy_threshold": 4, "expect_status": "200-299", "host": "app.example",
                                   "slow_start": "30s"}
                }
                """);
        HealthCheckConfig top = new HealthCheckConfig(true, "/healthz", Duration.ofSeconds(5), Duration.ofMillis(500),
                1, 4, 200, 299, "app.example", Duration.ofSeconds(30));
        assertThat(config.healthCheck()).isEqualTo(top);
        assertThat(config.backends()).extracting(BackendConfig::healthCheck)
                .containsExactly(top, HealthCheckConfig.DISABLED,
                        new HealthCheckConfig(true, "/ready", Duration.ofSeconds(5), Duration.ofMillis(500),
                                1, 4, 200, 299, "app.example", Duration.ofSeconds(30)),
                        top);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "true                          | /       | 200 | 399",
            "{}                            | /       | 200 | 399",
            "{\"expect_status\": 204}      | /       | 204 | 204",
            "{\"expect_status\": \"503\"}  | /       | 503 | 503",
            "{\"path\": \"/h?x=1\", \"expect_status\": \"200-200\"} | /h?x=1 | 200 | 200"})
    void healthCheckDefaultsFollowHaproxy(String section, String path, int low, int high) throws Exception {
        HealthCheckConfig check = load("{\"backend_servers\": [\"127.0.0.1:8081\"], \"health_check\": " + section + "}")
                .backends().get(0).healthCheck();
        assertThat(check.enabled()).isTrue();
        assertThat(check.path()).isEqualTo(path);
        assertThat(check.interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(check.healthyThreshold()).isEqualTo(2);
        assertThat(check.unhealthyThreshold()).isEqualTo(3);
        assertThat(check.expectStatusMin()).isEqualTo(low);
        assertThat(check.expectStatusMax()).isEqualTo(high);
        assertThat(check.expects(low - 1)).isFalse();
        assertThat(check.expects(high + 1)).isFalse();
        assertThat(check.slowStart()).isZero();
    }

    static Stream<Arguments> invalidConfigs() {
        String ok = "\"backend_servers\": [\"127.0.0.1:8081\"]";
        return Stream.of(
                Arguments.of("invalid JSON", "{\n  \"listen\": \"0.0.0.0:443\",\n  \"threads\" 4\n}",
                        "", "invalid JSON at line 3, column 13"),
                Arguments.of("trailing comma", "{" + ok + ",}", "", "invalid JSON at line 1"),
                Arguments.of("not an object", "[1, 2]", "", "must be an object, found an array"),
                Arguments.of("empty file", "  \n", "", "is empty; expected a JSON object"),
                Arguments.of("missing backends", "{}", "backend_servers", "is required"),
                Arguments.of("misspelt backends", "{\"backend_server\": [\"127.0.0.1:1\"]}", "backend_server",
                        "unknown key; did you mean \"backend_servers\"?"),
                Arguments.of("empty backends", "{\"backend_servers\": []}", "backend_servers", "is empty"),
                Arguments.of("backends not array", "{\"backend_servers\": \"127.0.0.1:80\"}", "backend_servers",
                        "must be an array, found a string"),
                Arguments.of("backend without port", "{\"backend_servers\": [\"127.0.0.1:80\", \"127.0.0.1\"]}",
                        "backend_servers[1]", "has no port"),
                Arguments.of("port out of range", "{\"backend_servers\": [\"127.0.0.1:65536\"]}", "backend_servers[0]",
                        "port 65536 is out of range (1-65535)"),
                Arguments.of("port zero", "{\"backend_servers\": [\"127.0.0.1:0\"]}", "backend_servers[0]", "out of range"),
                Arguments.of("port not a number", "{\"backend_servers\": [\"127.0.0.1:http\"]}", "backend_servers[0]",
                        "invalid port \"http\""),
                Arguments.of("max_connections zero",
                        "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"max_connections\": 0}]}",
                        "backend_servers[0].max_connections", "must be"),
                Arguments.of("queue timeout negative", "{" + ok + ", \"queue\": {\"timeout\": \"-1s\"}}",
                        "queue.timeout", ""),
                Arguments.of("queue max_waiting not a number", "{" + ok + ", \"queue\": {\"max_waiting\": \"many\"}}",
                        "queue.max_waiting", ""),
                Arguments.of("queue unknown key", "{" + ok + ", \"queue\": {\"max_wait\": 5}}",
                        "queue.max_wait", "unknown key"),
                Arguments.of("backend number", "{\"backend_servers\": [8081]}", "backend_servers[0]",
                        "must be \"host:port\" or {\"address\""),
                Arguments.of("weight too big", "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"weight\": 1000}]}",
                        "backend_servers[0].weight", "must be between 1 and 256, found 1000"),
                Arguments.of("weight fraction", "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"weight\": 1.5}]}",
                        "backend_servers[0].weight", "must be a whole number"),
                Arguments.of("backend object typo", "{\"backend_servers\": [{\"adress\": \"127.0.0.1:1\"}]}",
                        "backend_servers[0].address", "is required"),
                Arguments.of("backend unknown key", "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"wieght\": 2}]}",
                        "backend_servers[0].wieght", "unknown key; did you mean \"weight\"?"),
                Arguments.of("duplicate backend", "{\"backend_servers\": [\"127.0.0.1:1\", \"127.0.0.1:1\"]}",
                        "backend_servers[1]", "is listed twice"),
                Arguments.of("unresolvable", "{\"backend_servers\": [\"no-such-host.invalid:80\"]}", "backend_servers[0]",
                        "cannot resolve host \"no-such-host.invalid\""),
                Arguments.of("unknown top-level key", "{" + ok + ", \"lsiten\": \"0.0.0.0:443\"}", "lsiten",
                        "unknown key; did you mean \"listen\"?"),
                Arguments.of("unknown key far from all", "{" + ok + ", \"zzzzzzzzzz\": 1}", "zzzzzzzzzz",
                        "unknown key; known keys: listen, threads"),
                Arguments.of("duplicate key", "{" + ok + ", \"threads\": 1, \"threads\": 2}", "threads", "appears more than once"),
                Arguments.of("threads wrong type", "{" + ok + ", \"threads\": \"4\"}", "threads",
                        "must be a whole number, found a string (\"4\")"),
                Arguments.of("threads negative", "{" + ok + ", \"threads\": -1}", "threads", "must be between 0 and 256, found -1"),
                Arguments.of("listen bad", "{" + ok + ", \"listen\": \"0.0.0.0:99999\"}", "listen", "out of range"),
                Arguments.of("listen wrong type", "{" + ok + ", \"listen\": 443}", "listen", "must be a string, found a number (443)"),
                Arguments.of("ssl not object", "{" + ok + ", \"ssl\": true}", "ssl", "must be an object, found a boolean"),
                Arguments.of("ssl empty", "{" + ok + ", \"ssl\": {}}", "ssl", "needs a certificate"),
                Arguments.of("ssl key missing", "{" + ok + ", \"ssl\": {\"cert_file\": \"certs/a.pem\"}}", "ssl.key_file", "is required"),
                Arguments.of("cert unreadable", "{" + ok + ", \"ssl\": {\"cert_file\": \"certs/nope.pem\", \"key_file\": \"certs/a.key\"}}",
                        "ssl.cert_file", "file not found: "),
                Arguments.of("cert is dir", "{" + ok + ", \"ssl\": {\"cert_file\": \"certs\", \"key_file\": \"certs/a.key\"}}",
                        "ssl.cert_file", "is a directory"),
                Arguments.of("ssl typo", "{" + ok + ", \"ssl\": {\"cert_file\": \"certs/a.pem\", \"key_file\": \"certs/a.key\", \"cert_fille\": 1}}",
                        "ssl.cert_fille", "did you mean \"cert_file\"?"),
                Arguments.of("keystore and pem", "{" + ok + ", \"ssl\": {\"cert_file\": \"certs/a.pem\", \"key_file\": \"certs/a.key\", \"keystore_file\": \"certs/a.p12\"}}",
                        "ssl.keystore_file", "not both"),
                Arguments.of("old protocol", "{" + ok + ", \"ssl\": {\"cert_file\": \"certs/a.pem\", \"key_file\": \"certs/a.key\", \"protocols\": [\"TLSv1.1\"]}}",
                        "ssl.protocols", "\"TLSv1.1\" is not supported"),
                Arguments.of("certificates entry typo", "{" + ok + ", \"ssl\": {\"certificates\": [{\"cert_file\": \"certs/a.pem\", \"key_file\": \"certs/a.key\", \"kye_file\": 1}]}}",
                        "ssl.certificates[0].kye_file", "did you mean \"key_file\"?"),
                Arguments.of("bad duration", "{" + ok + ", \"timeouts\": {\"client_head\": \"10 parsecs\"}}", "timeouts.client_head",
                        "must be a duration like \"10s\""),
                Arguments.of("zero duration", "{" + ok + ", \"timeouts\": {\"backend_connect\": 0}}", "timeouts.backend_connect",
                        "must be between 1ms and 86400s, found 0ms"),
                Arguments.of("timeouts typo", "{" + ok + ", \"timeouts\": {\"client_idel\": \"5s\"}}", "timeouts.client_idel",
                        "did you mean \"client_idle\"?"),
                Arguments.of("bad size", "{" + ok + ", \"limits\": {\"max_header_bytes\": \"lots\"}}", "limits.max_header_bytes",
                        "must be a size like 8192"),
                Arguments.of("size too small", "{" + ok + ", \"limits\": {\"max_header_bytes\": 10}}", "limits.max_header_bytes",
                        "must be between 1024 and 1048576 bytes, found 10"),
                Arguments.of("line above head", "{" + ok + ", \"limits\": {\"max_request_line\": \"16k\", \"max_header_bytes\": \"8k\"}}",
                        "limits.max_request_line", "must not exceed max_header_bytes"),
                Arguments.of("log level", "{" + ok + ", \"log\": {\"level\": \"loud\"}}", "log.level", "\"loud\" is not a level"),
                Arguments.of("health_check wrong type", "{" + ok + ", \"health_check\": \"/healthz\"}", "health_check",
                        "must be an object, true or false, found a string"),
                Arguments.of("health_check typo", "{" + ok + ", \"health_check\": {\"intervall\": \"2s\"}}", "health_check.intervall",
                        "unknown key; did you mean \"interval\"?"),
                Arguments.of("health_check path relative", "{" + ok + ", \"health_check\": {\"path\": \"healthz\"}}",
                        "health_check.path", "must start with \"/\""),
                Arguments.of("health_check path with space", "{" + ok + ", \"health_check\": {\"path\": \"/a b\"}}",
                        "health_check.path", "visible ASCII"),
                Arguments.of("health_check host with CRLF", "{" + ok + ", \"health_check\": {\"host\": \"a\\r\\nX: y\"}}",
                        "health_check.host", "visible ASCII"),
                Arguments.of("health_check interval too short", "{" + ok + ", \"health_check\": {\"interval\": \"10ms\"}}",
                        "health_check.interval", "must be between 100ms and 3600s"),
                Arguments.of("health_check threshold zero", "{" + ok + ", \"health_check\": {\"healthy_threshold\": 0}}",
                        "health_check.healthy_threshold", "must be between 1 and 100, found 0"),
                Arguments.of("expect_status word", "{" + ok + ", \"health_check\": {\"expect_status\": \"2xx\"}}",
                        "health_check.expect_status", "must be a status like 200 or a range like \"200-399\""),
                Arguments.of("expect_status out of range", "{" + ok + ", \"health_check\": {\"expect_status\": 600}}",
                        "health_check.expect_status", "must be a status like 200"),
                Arguments.of("expect_status reversed", "{" + ok + ", \"health_check\": {\"expect_status\": \"399-200\"}}",
                        "health_check.expect_status", "is empty; write the lower status first"),
                Arguments.of("backend health_check typo", "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"health_check\": {\"pth\": \"/x\"}}]}",
                        "backend_servers[0].health_check.pth", "did you mean \"path\"?"),
                Arguments.of("backend health_check number", "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"health_check\": 1}]}",
                        "backend_servers[0].health_check", "must be an object, true or false, found a number"),
                Arguments.of("trust wrong type", "{" + ok + ", \"trust_forwarded_headers\": \"yes\"}", "trust_forwarded_headers",
                        "must be true, false or a list of addresses and CIDR ranges like [\"10.0.0.0/8\"], found a string (\"yes\")"),
                Arguments.of("trust host name", "{" + ok + ", \"trust_forwarded_headers\": [\"lb.internal\"]}",
                        "trust_forwarded_headers[0]", "\"lb.internal\" is not an IP address or CIDR range"),
                Arguments.of("trust prefix too long", "{" + ok + ", \"trust_forwarded_headers\": [\"10.0.0.0/33\"]}",
                        "trust_forwarded_headers[0]", "the prefix length must be 0..32"),
                Arguments.of("trust host bits", "{" + ok + ", \"trust_forwarded_headers\": [\"10.1.2.3/8\"]}",
                        "trust_forwarded_headers[0]", "has bits set past its /8 prefix; the range is \"10.0.0.0/8\""),
                Arguments.of("proxy_protocol without from", "{" + ok + ", \"proxy_protocol\": {}}", "proxy_protocol.from",
                        "is required: the addresses or CIDR ranges of the balancers"),
                Arguments.of("proxy_protocol typo", "{" + ok + ", \"proxy_protocol\": {\"from\": [\"10.0.0.0/8\"], \"form\": 1}}",
                        "proxy_protocol.form", "unknown key"),
                Arguments.of("proxy_protocol bad range", "{" + ok + ", \"proxy_protocol\": {\"from\": [\"10.0.0.0/40\"]}}",
                        "proxy_protocol.from[0]", "the prefix length must be 0..32"),
                Arguments.of("http2 asked for without TLS", "{" + ok + ", \"http2\": {\"enabled\": true}}",
                        "http2.enabled", "HTTP/2 is offered through TLS"),
                Arguments.of("http2 streams out of range", "{" + ok + ", \"http2\": {\"max_concurrent_streams\": 0}}",
                        "http2.max_concurrent_streams", "1"),
                Arguments.of("http2 typo", "{" + ok + ", \"http2\": {\"enable\": true}}", "http2.enable", "unknown key"),
                Arguments.of("send_proxy_protocol not a boolean",
                        "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"send_proxy_protocol\": \"v2\"}]}",
                        "backend_servers[0].send_proxy_protocol", "must be true or false"),
                Arguments.of("resolve unknown mode", "{\"backend_servers\": [{\"address\": \"a.invalid:1\", \"resolve\": \"srv\"}]}",
                        "backend_servers[0].resolve", "must be \"once\" (resolve at load) or \"dns\""),
                Arguments.of("resolve_interval without dns",
                        "{\"backend_servers\": [{\"address\": \"127.0.0.1:1\", \"resolve_interval\": \"5s\"}]}",
                        "backend_servers[0].resolve_interval", "only applies with \"resolve\": \"dns\""),
                Arguments.of("resolve_interval too short",
                        "{\"backend_servers\": [{\"address\": \"a.invalid:1\", \"resolve\": \"dns\", \"resolve_interval\": \"100ms\"}]}",
                        "backend_servers[0].resolve_interval", "must be between 1s and 3600s"),
                Arguments.of("trust number", "{" + ok + ", \"trust_forwarded_headers\": [10]}",
                        "trust_forwarded_headers[0]", "must be a string like \"10.0.0.0/8\", found a number"),
                Arguments.of("warmup too long", "{" + ok + ", \"warmup\": {\"duration\": \"2m\"}}", "warmup.duration",
                        "must be between 0ms and 60s, found 120s"),
                Arguments.of("warmup unknown key", "{" + ok + ", \"warmup\": {\"seconds\": 2}}", "warmup.seconds",
                        "unknown"),
                Arguments.of("warmup not an object", "{" + ok + ", \"warmup\": 2}", "warmup", "must be an object"),
                Arguments.of("loop_stall_warning too long", "{" + ok + ", \"timeouts\": {\"loop_stall_warning\": \"1h\"}}",
                        "timeouts.loop_stall_warning", "must be between 0ms and 600s, found 3600s"),
                Arguments.of("shutdown_delay too long", "{" + ok + ", \"timeouts\": {\"shutdown_delay\": \"1h\"}}",
                        "timeouts.shutdown_delay", "must be between 0ms and 600s, found 3600s"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "absent                                          | 1000",
        "'\"warmup\": {\"duration\": \"500ms\"},'         | 500",
        "'\"warmup\": {\"duration\": 0},'                 | 0",
        "'\"warmup\": {\"enabled\": false},'              | 0",
        "'\"warmup\": {\"enabled\": true, \"duration\": 5},' | 5000",
    })
    void warmUpIsOnForOneSecondUnlessConfigured(String section, long millis) throws Exception {
        ProxyConfig config = load("{" + (section.equals("absent") ? "" : section) + " \"backend_servers\": [\"127.0.0.1:8081\"]}");
        assertThat(config.warmUp().duration().toMillis()).isEqualTo(millis);
        assertThat(config.warmUp().enabled()).isEqualTo(millis > 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidConfigs")
    void invalidConfigNamesFileKeyAndProblem(String name, String json, String keyPath, String problem) {
        assertThatThrownBy(() -> load(json))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> {
                    ConfigException ce = (ConfigException) e;
                    assertThat(ce.file()).isEqualTo(file);
                    assertThat(ce.keyPath()).isEqualTo(keyPath);
                    assertThat(ce.problem()).contains(problem);
                    assertThat(ce.getMessage()).startsWith(file + ": " + (keyPath.isEmpty() ? "" : keyPath + ": "));
                });
    }

    @Test
    void missingFileSaysSo() {
        Path missing = home.resolve("nope.json");
        assertThatThrownBy(() -> loader.load(missing))
                .hasMessage(missing + ": file not found (pass another with --config FILE)");
    }

    @Test
    void directoryIsNotAConfig() {
        assertThatThrownBy(() -> loader.load(home)).hasMessage(home + ": is a directory, not a config file");
    }

    @Test
    void invalidUtf8IsReported() throws IOException {
        Files.write(file, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
        assertThatThrownBy(() -> loader.load(file)).hasMessage(file + ": is not valid UTF-8 text");
    }
}
