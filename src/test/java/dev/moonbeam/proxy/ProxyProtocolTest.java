package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** PROXY protocol v1 and v2 headers, valid, truncated and lying, whole and split at every byte. */
class ProxyProtocolTest {
    static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final String AFTER = "GET / HTTP/1.1\r\n";

    /** A v2 header: version/command byte, family/transport byte, then the payload as given (its length is set). */
    static byte[] v2(int versionCommand, int familyTransport, byte[] payload) {
        return v2(versionCommand, familyTransport, payload.length, payload);
    }

    /** A v2 header whose length field says {@code declared}, whatever follows. */
    static byte[] v2(int versionCommand, int familyTransport, int declared, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SIGNATURE);
        out.write(versionCommand);
        out.write(familyTransport);
        out.write(declared >>> 8);
        out.write(declared & 0xFF);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    static byte[] inet4(String source, int sourcePort, String destination, int destinationPort, byte[] tlvs) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(12 + tlvs.length);
        b.put(InetAddress.getByName(source).getAddress()).put(InetAddress.getByName(destination).getAddress());
        b.putShort((short) sourcePort).putShort((short) destinationPort).put(tlvs);
        return b.array();
    }

    static byte[] inet6(String source, int sourcePort, String destination, int destinationPort) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(36);
        b.put(InetAddress.getByName(source).getAddress()).put(InetAddress.getByName(destination).getAddress());
        b.putShort((short) sourcePort).putShort((short) destinationPort);
        return b.array();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Valid headers: what each yields ("v1 /203.0.113.7:51000 -> /192.0.2.1:443", or "v2 local"). */
    static Stream<Arguments> valid() throws Exception {
        byte[] tlvs = {0x04, 0x00, 0x02, 'h', 'i', 0x01, 0x00, 0x02, 'h', '2'}; // NOOP and ALPN
        return Stream.of(
                Arguments.of("v1 TCP4", ascii("PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n"),
                        "v1 /203.0.113.7:51000 -> /192.0.2.1:443"),
                Arguments.of("v1 TCP6", ascii("PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n"),
                        "v1 /[2001:db8:0:0:0:0:0:7]:51000 -> /[2001:db8:0:0:0:0:0:1]:443"),
                Arguments.of("v1 UNKNOWN", ascii("PROXY UNKNOWN\r\n"), "v1 local"),
                Arguments.of("v1 UNKNOWN with addresses to ignore", ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), "v1 local"),
                Arguments.of("v1 longest allowed", ascii("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                        + "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
                        "v1 /[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 -> /[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
                Arguments.of("v2 PROXY TCP4", v2(0x21, 0x11, inet4("203.0.113.7", 51000, "192.0.2.1", 443, new byte[0])),
                        "v2 /203.0.113.7:51000 -> /192.0.2.1:443"),
                Arguments.of("v2 PROXY TCP4 with TLVs", v2(0x21, 0x11, inet4("203.0.113.7", 1, "192.0.2.1", 2, tlvs)),
                        "v2 /203.0.113.7:1 -> /192.0.2.1:2"),
                Arguments.of("v2 PROXY TCP6", v2(0x21, 0x21, inet6("2001:db8::7", 51000, "2001:db8::1", 443)),
                        "v2 /[2001:db8:0:0:0:0:0:7]:51000 -> /[2001:db8:0:0:0:0:0:1]:443"),
                Arguments.of("v2 LOCAL (a balancer's health check)", v2(0x20, 0x00, new byte[0]), "v2 local"),
                Arguments.of("v2 LOCAL with an address block to ignore", v2(0x20, 0x11, inet4("1.2.3.4", 1, "5.6.7.8", 2, new byte[0])),
                        "v2 local"),
                Arguments.of("v2 PROXY UNSPEC", v2(0x21, 0x00, new byte[0]), "v2 local"),
                Arguments.of("v2 PROXY UNIX", v2(0x21, 0x31, new byte[216]), "v2 local"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validHeadersGiveTheirAddressesAndLengthWholeAndSplitAtEveryByte(String name, byte[] header, String expected) {
        byte[] input = concat(header, ascii(AFTER));
        for (int cut = 0; cut < header.length; cut++) {
            ProxyProtocol.Result partial = ProxyProtocol.parse(ByteBuffer.wrap(input, 0, cut));
            assertThat(partial).as("first %d bytes", cut).isInstanceOf(ProxyProtocol.NeedMore.class);
            assertThat(((ProxyProtocol.NeedMore) partial).bytes()).isBetween(1, header.length - cut);
        }
        ByteBuffer whole = ByteBuffer.wrap(input);
        ProxyProtocol.Result result = ProxyProtocol.parse(whole);
        assertThat(whole.position()).as("parse does not move the buffer").isZero();
        assertThat(result).isInstanceOf(ProxyProtocol.Header.class);
        ProxyProtocol.Header h = (ProxyProtocol.Header) result;
        assertThat(h.length()).as("the header's own bytes; what follows is the client's").isEqualTo(header.length);
        assertThat("v" + h.version() + (h.source() == null ? " local" : " " + h.source() + " -> " + h.destination()))
                .isEqualTo(expected);
    }

    /** Headers that break the spec, each with the words its refusal must contain. */
    static Stream<Arguments> invalid() throws Exception {
        return Stream.of(
                Arguments.of("v1 no CRLF within 107 bytes", ascii("PROXY TCP4 " + "1".repeat(120)), "no CRLF within 107"),
                Arguments.of("v1 bare LF", ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + "x".repeat(120)), "no CRLF"),
                Arguments.of("v1 double space", ascii("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), "6 fields"),
                Arguments.of("v1 missing port", ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), "6 fields"),
                Arguments.of("v1 trailing field", ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "6 fields"),
                Arguments.of("v1 lowercase protocol", ascii("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"), "TCP4, TCP6 or UNKNOWN"),
                Arguments.of("v1 UDP", ascii("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), "TCP4, TCP6 or UNKNOWN"),
                Arguments.of("v1 TCP4 with IPv6", ascii("PROXY TCP4 ::1 ::2 1 2\r\n"), "not IPv4 literals"),
                Arguments.of("v1 TCP6 with IPv4", ascii("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), "not IPv6 literals"),
                Arguments.of("v1 host name", ascii("PROXY TCP4 evil.example 5.6.7.8 1 2\r\n"), "not IPv4 literals"),
                Arguments.of("v1 octet over 255", ascii("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"), "not IPv4 literals"),
                Arguments.of("v1 port over 65535", ascii("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), "ports must be"),
                Arguments.of("v1 port with leading zero", ascii("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"), "ports must be"),
                Arguments.of("v1 negative port", ascii("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"), "ports must be"),
                Arguments.of("v1 control byte", ascii("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n"), "not printable"),
                Arguments.of("v2 version 1", v2(0x11, 0x11, inet4("1.2.3.4", 1, "5.6.7.8", 2, new byte[0])), "version nibble is 1"),
                Arguments.of("v2 command 2", v2(0x22, 0x11, inet4("1.2.3.4", 1, "5.6.7.8", 2, new byte[0])), "neither LOCAL nor PROXY"),
                Arguments.of("v2 family 4", v2(0x21, 0x41, new byte[12]), "family 4 is unknown"),
                Arguments.of("v2 TCP4 block too short", v2(0x21, 0x11, new byte[8]), "too short for its 12-byte address block"),
                Arguments.of("v2 TCP6 in a TCP4-sized block", v2(0x21, 0x21, new byte[12]), "too short for its 36-byte"),
                Arguments.of("v2 UDP", v2(0x21, 0x12, inet4("1.2.3.4", 1, "5.6.7.8", 2, new byte[0])), "not STREAM"),
                Arguments.of("v2 announces more than allowed", v2(0x21, 0x11, 4000, new byte[0]), "announces 4000 bytes"),
                Arguments.of("v2 TLV longer than the header", v2(0x21, 0x11,
                        inet4("1.2.3.4", 1, "5.6.7.8", 2, new byte[] {0x04, 0x00, 0x10, 'x'})), "claims 16 bytes"),
                Arguments.of("v2 TLV cut in its length", v2(0x21, 0x11,
                        inet4("1.2.3.4", 1, "5.6.7.8", 2, new byte[] {0x04, 0x00})), "cut short"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void brokenHeadersAreRefusedWithAReason(String name, byte[] header, String reason) {
        ProxyProtocol.Result result = ProxyProtocol.parse(ByteBuffer.wrap(concat(header, ascii(AFTER))));
        assertThat(result).isInstanceOf(ProxyProtocol.Invalid.class);
        assertThat(((ProxyProtocol.Invalid) result).reason()).contains(reason);
    }

    static Stream<Arguments> absent() {
        return Stream.of(
                Arguments.of("an HTTP request", ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
                Arguments.of("a TLS ClientHello", new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00}),
                Arguments.of("a word starting like the v1 signature", ascii("PROXZ / HTTP/1.1\r\n")),
                Arguments.of("PROXY as a method without the space", ascii("PROXYGET / HTTP/1.1\r\n")),
                Arguments.of("the v2 signature's first bytes then something else", new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x01}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("absent")
    void bytesThatAreNoHeaderAreSaidToBeAbsentAsSoonAsTheyDiffer(String name, byte[] input) {
        assertThat(ProxyProtocol.parse(ByteBuffer.wrap(input))).isInstanceOf(ProxyProtocol.Absent.class);
    }

    @Test
    void aWrittenV2HeaderParsesBackToTheSameAddresses() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 51000);
        InetSocketAddress v4Local = new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 443);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 1);
        InetSocketAddress v6Local = new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 65535);
        ByteBuffer out = ByteBuffer.allocate(128);
        assertThat(ProxyProtocol.writeV2(v4, v4Local, out)).isEqualTo(28);
        assertThat(ProxyProtocol.parse(out.flip())).isEqualTo(new ProxyProtocol.Header(2, 28, v4, v4Local));
        out.clear();
        assertThat(ProxyProtocol.writeV2(v6, v6Local, out)).isEqualTo(52);
        assertThat(ProxyProtocol.parse(out.flip())).isEqualTo(new ProxyProtocol.Header(2, 52, v6, v6Local));
        out.clear();
        // An IPv4 client on an IPv6 listener: both sent as IPv6, the client IPv4-mapped.
        assertThat(ProxyProtocol.writeV2(v4, v6Local, out)).isEqualTo(52);
        ProxyProtocol.Header mixed = (ProxyProtocol.Header) ProxyProtocol.parse(out.flip());
        assertThat(mixed.source().getAddress().getHostAddress()).isEqualTo("203.0.113.7");
        assertThat(mixed.destination()).isEqualTo(v6Local);
    }
}
