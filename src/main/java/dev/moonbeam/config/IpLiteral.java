package dev.moonbeam.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Literal IP addresses from text, never through DNS: a name where an address belongs is an error. */
public final class IpLiteral {
    private IpLiteral() {
    }

    /** The 4 or 16 address bytes of a literal IPv4 or IPv6 address, or null when it is not one. */
    public static byte[] parse(String text) {
        if (text.isEmpty() || text.length() > 45) {
            return null;
        }
        if (text.indexOf(':') < 0) {
            return ipv4(text);
        }
        // Hex digits, colons and (for a trailing IPv4 part) dots only, so getByName never resolves a name.
        if (!text.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
            return null;
        }
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Dotted-quad IPv4 only (decimal, 0-255, up to three digits each), or null. */
    public static byte[] ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            int value = Integer.parseInt(part);
            if (value > 255) {
                return null;
            }
            out[i] = (byte) value;
        }
        return out;
    }
}
