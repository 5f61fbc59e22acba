package dev.moonbeam.config;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * One address range, {@code 10.0.0.0/8} or {@code fd00::/8}; a bare address is a range of one.
 * Only literal addresses are accepted: a host name here would mean a DNS lookup deciding whom to
 * trust.
 */
public final class Cidr {
    private final byte[] network;
    private final int prefixLength;

    private Cidr(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
    }

    /**
     * Parses {@code address[/prefix]}.
     *
     * @throws IllegalArgumentException with a message fit for the config error, naming the problem
     */
    public static Cidr parse(String text) {
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        String addressText = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] address = IpLiteral.parse(addressText);
        if (address == null) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IP address or CIDR range (like \"10.0.0.0/8\" or \"fd00::/8\")");
        }
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String prefixText = trimmed.substring(slash + 1);
            if (prefixText.isEmpty() || prefixText.length() > 3 || !prefixText.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("\"" + text + "\" has no valid prefix length after '/'");
            }
            prefix = Integer.parseInt(prefixText);
            if (prefix > bits) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length must be 0.." + bits
                        + (bits == 32 && addressText.indexOf(':') >= 0 ? " (an IPv4-mapped range is matched as IPv4:"
                        + " write it as an IPv4 range, e.g. \"10.0.0.0/8\")" : ""));
            }
        }
        byte[] masked = masked(address, prefix);
        if (!Arrays.equals(masked, address)) {
            // 10.1.2.3/8 is most often a typo for a single address or for the network: say which.
            throw new IllegalArgumentException("\"" + text + "\" has bits set past its /" + prefix + " prefix; the range is \""
                    + format(masked) + "/" + prefix + "\" (or write the single address without a prefix)");
        }
        return new Cidr(masked, prefix);
    }

    /** True when {@code address} lies in this range (IPv4 ranges hold only IPv4 addresses, likewise IPv6). */
    public boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (bytes[full] & mask) == (network[full] & mask);
    }

    private static byte[] masked(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int bit = prefix; bit < out.length * 8; bit++) {
            out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return out;
    }

    /** Dotted IPv4, or IPv6 in its short form (RFC 5952: the longest run of zero groups as "::"). */
    private static String format(byte[] address) {
        if (address.length == 4) {
            return (address[0] & 0xFF) + "." + (address[1] & 0xFF) + "." + (address[2] & 0xFF) + "." + (address[3] & 0xFF);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (address[2 * i] & 0xFF) << 8 | (address[2 * i + 1] & 0xFF);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Cidr that && prefixLength == that.prefixLength && Arrays.equals(network, that.network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }

    @Override
    public String toString() {
        return format(network) + "/" + prefixLength;
    }
}
