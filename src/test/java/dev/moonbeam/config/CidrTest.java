package dev.moonbeam.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {
    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
            "10.0.0.0/8,       10.0.0.0,        true",
            "10.0.0.0/8,       10.255.255.255,  true",
            "10.0.0.0/8,       11.0.0.0,        false",
            "10.0.0.0/8,       9.255.255.255,   false",
            "192.168.1.5,      192.168.1.5,     true",
            "192.168.1.5,      192.168.1.4,     false",
            "172.16.0.0/12,    172.31.255.1,    true",
            "172.16.0.0/12,    172.32.0.1,      false",
            "0.0.0.0/0,        203.0.113.9,     true",
            "0.0.0.0/0,        ::1,             false",
            "127.0.0.0/8,      ::ffff:127.0.0.1, true",
            "fd00::/8,         fd12:3456::1,    true",
            "fd00::/8,         fe80::1,         false",
            "::1,              ::1,             true",
            "::1,              127.0.0.1,       false",
            "2001:db8::/33,    2001:db8:7fff::1, true",
            "2001:db8::/33,    2001:db8:8000::1, false",
            "::/0,             2001:db8::1,     true",
    })
    void matchesAddressesInItsRange(String range, String address, boolean expected) throws Exception {
        assertThat(Cidr.parse(range).contains(InetAddress.getByName(address))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
            "lb.internal      | is not an IP address or CIDR range",
            "localhost        | is not an IP address or CIDR range",
            "10.0.0           | is not an IP address or CIDR range",
            "10.0.0.256       | is not an IP address or CIDR range",
            "10.0.0.0/        | has no valid prefix length",
            "10.0.0.0/x       | has no valid prefix length",
            "10.0.0.0/-1      | has no valid prefix length",
            "10.0.0.0/33      | the prefix length must be 0..32",
            "fd00::/129       | the prefix length must be 0..128",
            "10.1.0.0/8       | the range is \"10.0.0.0/8\"",
            "fd00::1/8        | the range is \"fd00::/8\"",
            "2001:db8:0:0:1::/48 | the range is \"2001:db8::/48\"",
    })
    void refusesWhatIsNotALiteralRangeAndSaysWhy(String text, String message) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @ParameterizedTest(name = "{0} prints as {1}")
    @CsvSource({
            "10.0.0.0/8,            10.0.0.0/8",
            "192.168.1.5,           192.168.1.5/32",
            "fd00::/8,              fd00::/8",
            "::1,                   ::1/128",
            "2001:db8:0:0:1:0:0:0/80, 2001:db8:0:0:1::/80",
            "::/0,                  ::/0",
    })
    void printsInItsShortForm(String text, String printed) {
        assertThat(Cidr.parse(text)).hasToString(printed);
    }

    @org.junit.jupiter.api.Test
    void aSetMatchesAnyOfItsRangesAndTheShorthandsMatchAllOrNothing() throws Exception {
        Networks networks = Networks.of(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1")));
        assertThat(networks.contains(InetAddress.getByName("10.2.3.4"))).isTrue();
        assertThat(networks.contains(InetAddress.getByName("::1"))).isTrue();
        assertThat(networks.contains(InetAddress.getByName("127.0.0.1"))).isFalse();
        assertThat(Networks.ALL.contains(InetAddress.getByName("203.0.113.1"))).isTrue();
        assertThat(Networks.NONE.contains(InetAddress.getByName("127.0.0.1"))).isFalse();
        assertThat(Networks.of(List.of())).isSameAs(Networks.NONE);
    }
}
