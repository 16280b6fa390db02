package io.daxfs.fuse.tools;

import java.util.Locale;

/** Sizes and counts as the tools print them. */
public final class Sizes {
    private Sizes() {
    }

    /** "0 B", "4 KiB", "57.2 MiB", "1 TiB": binary units, one decimal unless whole. */
    public static String bytes(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == 0 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%d %s", Math.round(v), units[u]);
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** 1234567 as "1,234,567". */
    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** "1 file", "2,000 files". */
    public static String counted(long n, String one, String many) {
        return count(n) + " " + (n == 1 ? one : many);
    }

    /** {@code part} of {@code whole} as "12.3%" (0% of nothing). */
    public static String percent(long part, long whole) {
        return String.format(Locale.ROOT, "%.1f%%", whole == 0 ? 0.0 : part * 100.0 / whole);
    }
}
