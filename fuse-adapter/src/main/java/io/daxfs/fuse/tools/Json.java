package io.daxfs.fuse.tools;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the tools' {@code --json} output: maps (insertion order kept), lists, strings,
 * numbers, booleans and null, as one JSON document (RFC 8259), indented by two spaces.
 */
public final class Json {
    private Json() {
    }

    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, 0);
        return b.append('\n').toString();
    }

    /**
     * The same document on one line (JSON Lines: {@code daxfs stat --watch --json}). Strings
     * never hold a raw line break (they are escaped), so every one in {@link #write}'s output is
     * layout.
     */
    public static String line(Object value) {
        return write(value).strip().replaceAll("\n *", "") + "\n";
    }

    private static void write(StringBuilder b, Object v, int depth) {
        switch (v) {
            case null -> b.append("null");
            case String s -> string(b, s);
            case Boolean x -> b.append(x);
            case Double d -> b.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.4f", d) : "null");
            case Number n -> b.append(n);
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    b.append("{}");
                    return;
                }
                b.append("{\n");
                int i = 0;
                for (var e : m.entrySet()) {
                    indent(b, depth + 1);
                    string(b, String.valueOf(e.getKey()));
                    b.append(": ");
                    write(b, e.getValue(), depth + 1);
                    b.append(++i < m.size() ? ",\n" : "\n");
                }
                indent(b, depth);
                b.append('}');
            }
            case List<?> l -> {
                if (l.isEmpty()) {
                    b.append("[]");
                    return;
                }
                b.append("[\n");
                for (int i = 0; i < l.size(); i++) {
                    indent(b, depth + 1);
                    write(b, l.get(i), depth + 1);
                    b.append(i + 1 < l.size() ? ",\n" : "\n");
                }
                indent(b, depth);
                b.append(']');
            }
            default -> string(b, v.toString());
        }
    }

    private static void indent(StringBuilder b, int depth) {
        b.repeat("  ", depth);
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
