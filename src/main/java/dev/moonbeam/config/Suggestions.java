package dev.moonbeam.config;

import java.util.Collection;

/** Finds the known name closest to a misspelt one, so a typo in the config gets a useful hint. */
final class Suggestions {
    /** A name further than this many edits away is not offered: it would confuse more than help. */
    private static final int MAX_DISTANCE = 3;

    private Suggestions() {
    }

    /** The nearest candidate, or null when none is close enough. */
    static String nearest(String name, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int distance = distance(name.toLowerCase(), candidate.toLowerCase());
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        int allowed = Math.min(MAX_DISTANCE, Math.max(1, name.length() / 2));
        return bestDistance <= allowed ? best : null;
    }

    /** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("lsiten"). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int value = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    value = Math.min(value, d[i - 2][j - 2] + 1);
                }
                d[i][j] = value;
            }
        }
        return d[a.length()][b.length()];
    }
}
