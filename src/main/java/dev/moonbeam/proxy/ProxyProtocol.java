package dev.moonbeam.proxy;

import dev.moonbeam.config.IpLiteral;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2) that an L4 balancer puts before the
 * client's bytes to say whom it is forwarding: parsed from clients, written to backends.
 *
 * <p>Parsing is a pure function of the bytes received so far, so the caller can feed it whatever
 * arrived and ask again: it reports how many bytes it still needs, never reading past the header
 * (what follows is the client's TLS or HTTP). Every length is checked against a small bound
 * before anything is waited for.
 */
public final class ProxyProtocol {
    /** v1's longest line, CRLF included (spec §2.1). */
    static final int V1_MAX_LENGTH = 107;
    static final int V2_FIXED_LENGTH = 16;
    /** Address block plus TLVs we accept after v2's fixed part: far above what balancers send (AWS, GCP, Azure: < 300). */
    static final int V2_MAX_PAYLOAD = 2048;
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int COMMAND_LOCAL = 0;
    private static final int COMMAND_PROXY = 1;
    private static final int FAMILY_UNSPEC = 0;
    private static final int FAMILY_INET = 1;
    private static final int FAMILY_INET6 = 2;
    private static final int FAMILY_UNIX = 3;
    private static final int TRANSPORT_STREAM = 1;

    private ProxyProtocol() {
    }

    /** What the bytes so far say. */
    public sealed interface Result permits NeedMore, Header, Invalid, Absent { }

    /** Not decided yet: at least this many more bytes are needed. */
    public record NeedMore(int bytes) implements Result { }

    /**
     * A complete header of {@code length} bytes. {@code source} and {@code destination} are null
     * when it names no addresses (v2 LOCAL, as balancers' own health checks send; v1 UNKNOWN;
     * an unspecified family): the connection's own addresses then stand.
     */
    public record Header(int version, int length, InetSocketAddress source, InetSocketAddress destination) implements Result { }

    /** A PROXY header that breaks the spec; {@code reason} is for the log. */
    public record Invalid(String reason) implements Result { }

    /** The bytes do not begin with either version's signature: no header at all. */
    public record Absent() implements Result { }

    private static final Absent ABSENT = new Absent();

    /**
     * Looks at {@code in[position, limit)} (not moved).
     */
    public static Result parse(ByteBuffer in) {
        int start = in.position();
        int available = in.remaining();
        if (available == 0) {
            return new NeedMore(1);
        }
        int v1Match = prefixMatch(in, start, available, V1_PREFIX);
        if (v1Match == V1_PREFIX.length) {
            return parseV1(in, start, available);
        }
        int v2Match = prefixMatch(in, start, available, V2_SIGNATURE);
        if (v2Match == V2_SIGNATURE.length) {
            return parseV2(in, start, available);
        }
        if (v1Match == available) {
            return new NeedMore(V1_PREFIX.length - available);
        }
        if (v2Match == available) {
            return new NeedMore(V2_SIGNATURE.length - available);
        }
        return ABSENT;
    }

    /** How many of the first bytes agree with {@code prefix}: the whole prefix, all available bytes, or fewer (a mismatch). */
    private static int prefixMatch(ByteBuffer in, int start, int available, byte[] prefix) {
        int n = Math.min(available, prefix.length);
        for (int i = 0; i < n; i++) {
            if (in.get(start + i) != prefix[i]) {
                return -1;
            }
        }
        return n;
    }

    private static Result parseV1(ByteBuffer in, int start, int available) {
        int end = -1;
        int scan = Math.min(available, V1_MAX_LENGTH);
        for (int i = 1; i < scan; i++) {
            if (in.get(start + i - 1) == '\r' && in.get(start + i) == '\n') {
                end = i + 1;
                break;
            }
        }
        if (end < 0) {
            if (available >= V1_MAX_LENGTH) {
                return new Invalid("v1 header has no CRLF within " + V1_MAX_LENGTH + " bytes");
            }
            return new NeedMore(1);
        }
        byte[] line = new byte[end - 2];
        for (int i = 0; i < line.length; i++) {
            byte b = in.get(start + i);
            if (b < 0x20 || b > 0x7E) {
                return new Invalid("v1 header has a byte that is not printable ASCII");
            }
            line[i] = b;
        }
        String[] fields = new String(line, StandardCharsets.US_ASCII).split(" ", -1);
        if (fields.length >= 2 && fields[1].equals("UNKNOWN")) {
            return new Header(1, end, null, null); // the rest of the line is to be ignored (spec §2.1)
        }
        if (fields.length != 6) {
            return new Invalid("v1 header needs 6 fields separated by single spaces, found " + fields.length);
        }
        boolean tcp4 = fields[1].equals("TCP4");
        if (!tcp4 && !fields[1].equals("TCP6")) {
            return new Invalid("v1 protocol must be TCP4, TCP6 or UNKNOWN");
        }
        byte[] source = tcp4 ? IpLiteral.ipv4(fields[2]) : ipv6(fields[2]);
        byte[] destination = tcp4 ? IpLiteral.ipv4(fields[3]) : ipv6(fields[3]);
        if (source == null || destination == null) {
            return new Invalid("v1 addresses are not " + (tcp4 ? "IPv4" : "IPv6") + " literals");
        }
        int sourcePort = port(fields[4]);
        int destinationPort = port(fields[5]);
        if (sourcePort < 0 || destinationPort < 0) {
            return new Invalid("v1 ports must be decimal 0-65535");
        }
        return new Header(1, end, address(source, sourcePort), address(destination, destinationPort));
    }

    private static byte[] ipv6(String text) {
        return text.indexOf(':') < 0 ? null : IpLiteral.parse(text);
    }

    private static int port(String text) {
        if (text.isEmpty() || text.length() > 5 || (text.length() > 1 && text.charAt(0) == '0')
                || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        int value = Integer.parseInt(text);
        return value <= 0xFFFF ? value : -1;
    }

    private static Result parseV2(ByteBuffer in, int start, int available) {
        if (available < V2_FIXED_LENGTH) {
            return new NeedMore(V2_FIXED_LENGTH - available);
        }
        int versionCommand = in.get(start + 12) & 0xFF;
        int familyTransport = in.get(start + 13) & 0xFF;
        int payload = (in.get(start + 14) & 0xFF) << 8 | (in.get(start + 15) & 0xFF);
        if (versionCommand >>> 4 != 2) {
            return new Invalid("v2 version nibble is " + (versionCommand >>> 4) + ", not 2");
        }
        int command = versionCommand & 0x0F;
        if (command != COMMAND_LOCAL && command != COMMAND_PROXY) {
            return new Invalid("v2 command " + command + " is neither LOCAL nor PROXY");
        }
        if (payload > V2_MAX_PAYLOAD) {
            return new Invalid("v2 header announces " + payload + " bytes, more than " + V2_MAX_PAYLOAD);
        }
        int total = V2_FIXED_LENGTH + payload;
        if (available < total) {
            return new NeedMore(total - available);
        }
        int family = familyTransport >>> 4;
        int transport = familyTransport & 0x0F;
        int addressLength = switch (family) {
            case FAMILY_INET -> 12;
            case FAMILY_INET6 -> 36;
            case FAMILY_UNIX -> 216;
            case FAMILY_UNSPEC -> 0;
            default -> -1;
        };
        if (addressLength < 0) {
            return new Invalid("v2 address family " + family + " is unknown");
        }
        if (payload < addressLength) {
            return new Invalid("v2 header is " + payload + " bytes, too short for its " + addressLength + "-byte address block");
        }
        String tlvProblem = checkTlvs(in, start + V2_FIXED_LENGTH + addressLength, start + total);
        if (tlvProblem != null) {
            return new Invalid(tlvProblem);
        }
        if (command == COMMAND_LOCAL || family == FAMILY_UNSPEC || family == FAMILY_UNIX) {
            // LOCAL: the balancer speaking for itself (health checks); the connection's addresses stand.
            return new Header(2, total, null, null);
        }
        if (transport != TRANSPORT_STREAM) {
            return new Invalid("v2 transport " + transport + " is not STREAM (TCP)");
        }
        int a = start + V2_FIXED_LENGTH;
        int size = family == FAMILY_INET ? 4 : 16;
        byte[] source = new byte[size];
        byte[] destination = new byte[size];
        for (int i = 0; i < size; i++) {
            source[i] = in.get(a + i);
            destination[i] = in.get(a + size + i);
        }
        int ports = a + 2 * size;
        int sourcePort = (in.get(ports) & 0xFF) << 8 | (in.get(ports + 1) & 0xFF);
        int destinationPort = (in.get(ports + 2) & 0xFF) << 8 | (in.get(ports + 3) & 0xFF);
        return new Header(2, total, address(source, sourcePort), address(destination, destinationPort));
    }

    /** Each TLV (type, 2-byte length, value) must end inside the header: a length that lies is refused. */
    private static String checkTlvs(ByteBuffer in, int from, int end) {
        int p = from;
        while (p < end) {
            if (end - p < 3) {
                return "v2 TLV at offset " + (p - from) + " is cut short";
            }
            int length = (in.get(p + 1) & 0xFF) << 8 | (in.get(p + 2) & 0xFF);
            if (length > end - p - 3) {
                return "v2 TLV of type 0x" + Integer.toHexString(in.get(p) & 0xFF) + " claims " + length
                        + " bytes, past the header's end";
            }
            p += 3 + length;
        }
        return null;
    }

    private static InetSocketAddress address(byte[] bytes, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // only for a wrong length, which the callers rule out
        }
    }

    /**
     * Writes a v2 PROXY header for a TCP connection from {@code source} to {@code destination}.
     * Mixed families (an IPv4 client on an IPv6 listener) are sent as IPv6, IPv4-mapped.
     *
     * @return bytes written (28 for IPv4, 52 for IPv6)
     */
    public static int writeV2(InetSocketAddress source, InetSocketAddress destination, ByteBuffer out) {
        InetAddress from = source.getAddress();
        InetAddress to = destination.getAddress();
        boolean ipv4 = from instanceof Inet4Address && to instanceof Inet4Address;
        int start = out.position();
        out.put(V2_SIGNATURE);
        out.put((byte) (0x20 | COMMAND_PROXY));
        out.put((byte) ((ipv4 ? FAMILY_INET : FAMILY_INET6) << 4 | TRANSPORT_STREAM));
        out.putShort((short) (ipv4 ? 12 : 36));
        out.put(ipv4 ? from.getAddress() : ipv6Bytes(from));
        out.put(ipv4 ? to.getAddress() : ipv6Bytes(to));
        out.putShort((short) source.getPort());
        out.putShort((short) destination.getPort());
        return out.position() - start;
    }

    private static byte[] ipv6Bytes(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 16) {
            return bytes;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(bytes, 0, mapped, 12, 4);
        return mapped;
    }
}
