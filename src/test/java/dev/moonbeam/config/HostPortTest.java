package dev.moonbeam.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPortTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "127.0.0.1:8081 | 127.0.0.1 | 8081 | 127.0.0.1:8081",
            "localhost:1    | localhost | 1    | localhost:1",
            "[::1]:443      | ::1       | 443  | [::1]:443",
            "' host:65535 ' | host      | 65535| host:65535",
            "8443           | 0.0.0.0   | 8443 | 0.0.0.0:8443",
    })
    void parses(String text, String host, int port, String printed) {
        HostPort parsed = HostPort.parse(text, "0.0.0.0");
        assertThat(parsed).isEqualTo(new HostPort(host, port));
        assertThat(parsed.toString()).isEqualTo(printed);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''             | is empty",
            "host:          | invalid port \"\"",
            ":80            | empty host",
            "host:-1        | invalid port \"-1\"",
            "host:123456    | invalid port \"123456\"",
            "host:70000     | port 70000 is out of range",
            "::1:80         | IPv6 is written [addr]:port",
            "[::1]80        | IPv6 is written [addr]:port",
            "ho st:80       | invalid character ' '",
            "host/x:80      | invalid character '/'",
    })
    void rejects(String text, String problem) {
        assertThatThrownBy(() -> HostPort.parse(text, "0.0.0.0")).hasMessageContaining(problem);
    }

    @ParameterizedTest
    @CsvSource({"kitten,sitting,3", "lsiten,listen,1", "threads,threads,0", "wieght,weight,1", "'',abc,3"})
    void editDistance(String a, String b, int expected) {
        assertThat(Suggestions.distance(a, b)).isEqualTo(expected);
    }
}
