package io.daxfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Reads /proc/self/mountinfo: is a directory a mount point, and of what. */
public final class MountTable {
    /** One mount: where, its file-system type (e.g. "fuse.daxfs") and its source. */
    public record Mount(Path mountPoint, String type, String source) {
    }

    private MountTable() {
    }

    public static Optional<Mount> find(Path dir) {
        Path target = dir.toAbsolutePath().normalize();
        try {
            target = target.toRealPath();
        } catch (IOException e) {
            // a dead FUSE mount cannot be resolved; compare the normalized path instead
        }
        Mount found = null;
        for (Mount m : all()) {
            if (m.mountPoint().equals(target)) {
                found = m; // the last one listed is the one on top
            }
        }
        return Optional.ofNullable(found);
    }

    public static List<Mount> all() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(MountTable::parse).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** mountinfo: id parent maj:min root mountpoint options [optional...] - type source superopts */
    static Mount parse(String line) {
        String[] f = line.split(" ");
        int dash = 6;
        while (dash < f.length && !f[dash].equals("-")) {
            dash++;
        }
        return new Mount(Path.of(unescape(f[4])), f[dash + 1], unescape(f[dash + 2]));
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
