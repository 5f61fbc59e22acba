package dev.moonbeam.observe;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The HTML of {@code /status}: a page an operator keeps open. It refreshes itself every two
 * seconds (a meta refresh: no script) and shows each configured backend's state, weight,
 * in-flight and total requests, errors and response-time percentiles, then the totals, uptime and
 * when the configuration was loaded. Every value is HTML-escaped: backend names come from a file.
 *
 * <p>Stateless; safe from any thread.
 */
public final class StatusPage {
    static final int REFRESH_SECONDS = 2;
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private static final String STYLE = """
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d232b;background:#f6f7f9}
            h1{font-size:20px;margin:0 0 4px}
            .sub{color:#5b6470;margin-bottom:18px}
            .cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
            .card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 14px;min-width:110px}
            .card b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
            .card span{color:#5b6470;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
            table{border-collapse:collapse;background:#fff;border:1px solid #dde1e6;border-radius:6px;min-width:720px}
            th,td{padding:7px 12px;border-bottom:1px solid #eceff2;text-align:right;font-variant-numeric:tabular-nums}
            th{background:#eef1f4;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#3c4550}
            th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
            td:first-child{font-family:ui-monospace,Menlo,Consolas,monospace}
            tbody tr:last-child td{border-bottom:none}
            tfoot td{border-top:2px solid #dde1e6;border-bottom:none;font-weight:600;background:#fafbfc}
            .card.bad b{color:#b3261e}
            .state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
            .available{background:#dcf5e3;color:#17612e}
            .backoff{background:#fff1cc;color:#7a5200}
            .active-down,.admin-down{background:#fde0df;color:#9b1c16}
            .none{color:#5b6470;padding:12px}
            footer{margin-top:14px;color:#8a929c;font-size:12px}
            """;

    private StatusPage() {
    }

    /** The page for {@code snapshot}; {@code nowEpochMillis} stamps it. */
    public static String render(MetricsRegistry.Snapshot snapshot, String version, long nowEpochMillis) {
        StringBuilder html = new StringBuilder(4096);
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>MoonBeam status</title><style>").append(STYLE).append("</style></head><body>\n");
        html.append("<h1>MoonBeam</h1><div class=\"sub\">version ").append(escape(version))
                .append(" &middot; up ").append(duration(snapshot.uptimeSeconds()))
                .append(" &middot; started ").append(time(snapshot.startedEpochMillis()))
                .append(" &middot; config loaded ")
                .append(snapshot.configLoadedEpochMillis() == 0 ? "&ndash;" : time(snapshot.configLoadedEpochMillis()))
                .append(snapshot.tls().isEmpty() ? "" : " &middot; TLS " + escape(snapshot.tls()))
                .append("</div>\n");

        html.append("<div class=\"cards\">");
        card(html, "requests", Long.toString(snapshot.requests()), false);
        card(html, "in flight", Long.toString(snapshot.inflight()), false);
        long limit = snapshot.clientConnectionsLimit();
        card(html, limit > 0 && limit < Integer.MAX_VALUE ? "connections (limit " + limit + ")" : "connections",
                Long.toString(snapshot.clientConnections()), limit > 0 && snapshot.clientConnections() >= limit);
        if (snapshot.backends().stream().anyMatch(row -> row.maxConnections() > 0)) {
            // Only backends with max_connections can make requests wait.
            double p99 = snapshot.queueWaitP99Seconds();
            card(html, "queued (max " + snapshot.queueMaxWaiting() + (Double.isNaN(p99) ? "" : ", p99 " + latency(p99)) + ")",
                    Long.toString(snapshot.queueLength()), snapshot.queueLength() > 0);
        }
        card(html, "2xx", Long.toString(snapshot.requestsOfClass(2)), false);
        card(html, "3xx", Long.toString(snapshot.requestsOfClass(3)), false);
        card(html, "4xx", Long.toString(snapshot.requestsOfClass(4)), false);
        card(html, "5xx", Long.toString(snapshot.requestsOfClass(5)), snapshot.requestsOfClass(5) > 0);
        card(html, "sent", bytes(snapshot.bytesSent()), false);
        html.append("</div>\n");

        html.append("<table><thead><tr><th>Backend</th><th>State</th><th>Weight</th><th>In flight</th>")
                .append("<th>Requests</th><th>Errors</th><th>p50</th><th>p99</th></tr></thead><tbody>\n");
        if (snapshot.backends().isEmpty()) {
            html.append("<tr><td class=\"none\" colspan=\"8\">no backends configured</td></tr>\n");
        }
        long requests = 0;
        long errors = 0;
        for (MetricsRegistry.BackendRow row : snapshot.backends()) {
            requests += row.requests();
            errors += row.errors();
            html.append("<tr><td>").append(escape(row.address())).append("</td>")
                    .append("<td><span class=\"state ").append(row.state().label()).append("\">")
                    .append(row.state().label()).append("</span></td>")
                    .append("<td>").append(row.weight()).append("</td>")
                    .append("<td>").append(row.inflight())
                    .append(row.maxConnections() > 0 ? " / " + row.maxConnections() : "").append("</td>")
                    .append("<td>").append(row.requests()).append("</td>")
                    .append("<td>").append(row.errors()).append("</td>")
                    .append("<td>").append(latency(row.p50Seconds())).append("</td>")
                    .append("<td>").append(latency(row.p99Seconds())).append("</td></tr>\n");
        }
        html.append("</tbody><tfoot><tr><td>total</td><td>").append(available(snapshot)).append(" of ")
                .append(snapshot.backends().size()).append(" available</td><td></td><td>").append(snapshot.inflight())
                .append("</td><td>").append(requests).append("</td><td>").append(errors)
                .append("</td><td></td><td></td></tr></tfoot>");
        html.append("</table>\n<footer>p50/p99: backend response-head time, estimated from histogram buckets. ")
                .append("Refreshes every ").append(REFRESH_SECONDS).append(" s &middot; ").append(time(nowEpochMillis))
                .append(" &middot; <a href=\"/metrics\">/metrics</a></footer>\n</body></html>\n");
        return html.toString();
    }

    private static long available(MetricsRegistry.Snapshot snapshot) {
        return snapshot.backends().stream().filter(row -> row.state() == BackendState.AVAILABLE).count();
    }

    private static void card(StringBuilder html, String label, String value, boolean bad) {
        html.append(bad ? "<div class=\"card bad\"><b>" : "<div class=\"card\"><b>").append(escape(value)).append("</b><span>").append(escape(label)).append("</span></div>");
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    static String latency(double seconds) {
        if (Double.isNaN(seconds)) {
            return "&ndash;";
        }
        if (seconds < 1) {
            return String.format(Locale.ROOT, "%.1f ms", seconds * 1000);
        }
        return String.format(Locale.ROOT, "%.2f s", seconds);
    }

    static String duration(long seconds) {
        long days = seconds / 86_400;
        long hours = seconds / 3600 % 24;
        long minutes = seconds / 60 % 60;
        if (days > 0) {
            return days + "d " + hours + "h " + minutes + "m";
        }
        if (hours > 0) {
            return hours + "h " + minutes + "m";
        }
        return minutes > 0 ? minutes + "m " + seconds % 60 + "s" : seconds % 60 + "s";
    }

    static String bytes(long count) {
        if (count < 1024) {
            return count + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = count;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    private static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }
}
