package dev.moonbeam.proxy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A request or response read off a blocking socket by the test peers: start line, headers in
 * order, and the body de-chunked. Deliberately simple and independent of the proxy's parser.
 */
public record HttpMessage(String startLine, List<String[]> headers, byte[] body, boolean chunked) {

    public String header(String name) {
        for (String[] header : headers) {
            if (header[0].equalsIgnoreCase(name)) {
                return header[1];
            }
        }
        return null;
    }

    public List<String> headerValues(String name) {
        List<String> values = new ArrayList<>();
        for (String[] header : headers) {
            if (header[0].equalsIgnoreCase(name)) {
                values.add(header[1]);
            }
        }
        return values;
    }

    public int status() {
        return Integer.parseInt(startLine.split(" ")[1]);
    }

    public String method() {
        return startLine.split(" ")[0];
    }

    public String target() {
        return startLine.split(" ")[1];
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** Reads one message; null at a clean EOF before its first byte. */
    public static HttpMessage read(InputStream in, boolean isResponse, boolean headRequest) throws IOException {
        String startLine = readLine(in, true);
        if (startLine == null) {
            return null;
        }
        List<String[]> headers = new ArrayList<>();
        for (String line = readLine(in, false); !line.isEmpty(); line = readLine(in, false)) {
            int colon = line.indexOf(':');
            headers.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
        }
        HttpMessage head = new HttpMessage(startLine, headers, new byte[0], false);
        String te = head.header("Transfer-Encoding");
        String cl = head.header("Content-Length");
        int status = isResponse ? head.status() : 0;
        boolean noBody = headRequest || (isResponse && (status / 100 == 1 || status == 204 || status == 304));
        if (noBody) {
            return head;
        }
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(in, false);
                int semi = sizeLine.indexOf(';');
                int size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).strip(), 16);
                if (size == 0) {
                    // Trailer fields join the header list, so tests can see them arrive.
                    for (String line = readLine(in, false); !line.isEmpty(); line = readLine(in, false)) {
                        int colon = line.indexOf(':');
                        headers.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
                    }
                    break;
                }
                body.write(in.readNBytes(size));
                readLine(in, false);
            }
            return new HttpMessage(startLine, headers, body.toByteArray(), true);
        }
        if (cl != null) {
            int length = Integer.parseInt(cl.strip());
            byte[] body = in.readNBytes(length);
            if (body.length != length) {
                throw new EOFException("body truncated: " + body.length + " of " + length);
            }
            return new HttpMessage(startLine, headers, body, false);
        }
        if (isResponse) {
            return new HttpMessage(startLine, headers, in.readAllBytes(), false);
        }
        return head;
    }

    /** A CRLF-terminated line; null at EOF before any byte when {@code eofOk}. */
    public static String readLine(InputStream in, boolean eofOk) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (eofOk && line.length() == 0) {
                    return null;
                }
                throw new EOFException("EOF in line: " + line);
            }
            if (b == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            line.append((char) b);
        }
    }
}
