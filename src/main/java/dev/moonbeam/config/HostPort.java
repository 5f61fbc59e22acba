package dev.moonbeam.config;

/**
 * A {@code host:port} pair as written in the config: {@code 127.0.0.1:8081}, {@code localhost:80},
 * {@code [::1]:8443}. Parsing only; resolution happens in {@link ConfigLoader} (off the loops).
 */
public record HostPort(String host, int port) {

    /** Parses {@code host:port}; {@code defaultHost} is used when only a port is given, or null to require a host. */
    static HostPort parse(String text, String defaultHost) throws IllegalArgumentException {
        return parse(text, defaultHost, 1);
    }

    /** As {@link #parse(String, String)}; a listener may use port 0 ("any free port", for tests). */
    static HostPort parseListen(String text) throws IllegalArgumentException {
        return parse(text, "0.0.0.0", 0);
    }

    private static HostPort parse(String text, String defaultHost, int minPort) throws IllegalArgumentException {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("is empty; expected host:port");
        }
        String host;
        String portText;
        if (trimmed.startsWith("[")) {
            int close = trimmed.indexOf(']');
            if (close < 0 || close + 1 >= trimmed.length() || trimmed.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("\"" + text + "\" is not host:port (IPv6 is written [addr]:port)");
            }
            host = trimmed.substring(1, close);
            portText = trimmed.substring(close + 2);
        } else {
            int colon = trimmed.lastIndexOf(':');
            if (colon < 0) {
                if (defaultHost == null) {
                    throw new IllegalArgumentException("\"" + text + "\" has no port; expected host:port");
                }
                host = defaultHost;
                portText = trimmed;
            } else {
                if (trimmed.indexOf(':') != colon) {
                    throw new IllegalArgumentException("\"" + text + "\" is not host:port (IPv6 is written [addr]:port)");
                }
                host = trimmed.substring(0, colon);
                portText = trimmed.substring(colon + 1);
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("\"" + text + "\" has an empty host; expected host:port");
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%')) {
                throw new IllegalArgumentException("\"" + text + "\" has an invalid character '" + c + "' in the host");
            }
        }
        return new HostPort(host, parsePort(portText, text, minPort));
    }

    private static int parsePort(String portText, String whole, int minPort) {
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("\"" + whole + "\" has an invalid port \"" + portText + "\"; expected a number 1-65535");
        }
        int port = Integer.parseInt(portText);
        if (port < minPort || port > 65535) {
            throw new IllegalArgumentException("\"" + whole + "\": port " + port + " is out of range (" + minPort + "-65535)");
        }
        return port;
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
