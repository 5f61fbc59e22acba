package dev.moonbeam.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.config.BackendConfig;
import dev.moonbeam.config.HealthCheckConfig;
import dev.moonbeam.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DnsDiscoveryTest {
    private final AtomicReference<List<InetAddress>> answer = new AtomicReference<>();
    private final AtomicInteger lookups = new AtomicInteger();
    private final List<String> warnings = new ArrayList<>();
    private final Logger log = Logger.getLogger(DnsDiscovery.class.getName());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                synchronized (warnings) {
                    warnings.add(record.getMessage());
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final DnsDiscovery discovery = new DnsDiscovery(host -> {
        lookups.incrementAndGet();
        List<InetAddress> now = answer.get();
        if (now == null) {
            throw new UnknownHostException(host);
        }
        return now;
    });

    DnsDiscoveryTest() {
        log.addHandler(capture);
    }

    @AfterEach
    void tearDown() {
        discovery.close();
        log.removeHandler(capture);
    }

    private static BackendConfig discovered(String hostPort, Duration interval) {
        int colon = hostPort.lastIndexOf(':');
        HostPort name = new HostPort(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        return new BackendConfig(name, InetSocketAddress.createUnresolved(name.host(), name.port()), 1,
                HealthCheckConfig.DISABLED, 0, false, interval);
    }

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void membersAreLookedUpAtConfigureSortedAndDeduplicated() throws Exception {
        answer.set(List.of(ip("10.0.0.9"), ip("10.0.0.2"), ip("10.0.0.9"), ip("fd00::1")));
        BackendConfig api = discovered("api.internal:8080", Duration.ofSeconds(10));
        discovery.configure(List.of(api));
        assertThat(discovery.members(api.hostPort())).containsExactly(ip("10.0.0.2"), ip("10.0.0.9"), ip("fd00::1"));
        assertThat(lookups.get()).isEqualTo(1);
        // A reload that keeps the name keeps its members without a new lookup.
        discovery.configure(List.of(api));
        assertThat(lookups.get()).isEqualTo(1);
        // Dropping the entry forgets it.
        discovery.configure(List.of());
        assertThat(discovery.members(api.hostPort())).isEmpty();
    }

    @Test
    void aChangeIsReportedAndAFailureKeepsTheLastGoodSetAndIsLoggedOnce() throws Exception {
        answer.set(List.of(ip("10.0.0.1")));
        BackendConfig api = discovered("api.internal:8080", Duration.ofMillis(30));
        discovery.configure(List.of(api));
        AtomicInteger changes = new AtomicInteger();
        discovery.start(changes::incrementAndGet);

        answer.set(List.of(ip("10.0.0.1"), ip("10.0.0.2")));
        await(() -> changes.get() == 1);
        assertThat(discovery.members(api.hostPort())).containsExactly(ip("10.0.0.1"), ip("10.0.0.2"));

        answer.set(null);
        int before = lookups.get();
        await(() -> lookups.get() >= before + 5);
        assertThat(discovery.members(api.hostPort())).as("last good set kept").containsExactly(ip("10.0.0.1"), ip("10.0.0.2"));
        assertThat(changes.get()).isEqualTo(1);
        synchronized (warnings) {
            assertThat(warnings).as("one warning for five failures").hasSize(1);
            assertThat(warnings.get(0)).contains("api.internal:8080").contains("unknown host").contains("keeping its last 2");
        }

        answer.set(List.of(ip("10.0.0.3")));
        await(() -> changes.get() == 2);
        assertThat(discovery.members(api.hostPort())).containsExactly(ip("10.0.0.3"));
    }

    @Test
    void aNameWithHundredsOfRecordsIsCapped() throws Exception {
        List<InetAddress> many = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            many.add(InetAddress.getByAddress(new byte[] {10, 1, (byte) (i / 256), (byte) i}));
        }
        answer.set(many);
        BackendConfig big = discovered("big.internal:80", Duration.ofSeconds(10));
        discovery.configure(List.of(big));
        assertThat(discovery.members(big.hostPort())).hasSize(DnsDiscovery.MAX_MEMBERS);
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(10);
        }
    }
}
