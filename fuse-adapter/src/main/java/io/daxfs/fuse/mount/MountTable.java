package io.daxfs.fuse.mount;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Reads /proc/self/mountinfo (see proc(5)). */
public final class MountTable {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One line of mountinfo; {@code device} is the "major:minor" of the mounted file system. */
    public record Entry(String device, String mountPoint, String fsType, String source) {
        /** The id fusectl uses for a FUSE connection: the kernel's dev_t, (major << 20) | minor. */
        public long kernelDev() {
            String[] mm = device.split(":");
            return (Long.parseLong(mm[0]) << 20) | Long.parseLong(mm[1]);
        }
    }

    private MountTable() {
    }

    public static List<Entry> entries() {
        return entries(MOUNTINFO);
    }

    /** The entries of a mountinfo file: another process's, /proc/PID/mountinfo, shows its mount namespace. */
    static List<Entry> entries(Path mountinfo) {
        try {
            return Files.readAllLines(mountinfo).stream().map(MountTable::parse).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + mountinfo, e);
        }
    }

    /** The topmost mount at exactly {@code mountPoint} (an absolute, symlink-free path). */
    public static Optional<Entry> find(Path mountPoint) {
        String wanted = mountPoint.toString();
        Entry found = null;
        for (Entry e : entries()) {
            if (e.mountPoint().equals(wanted)) {
                found = e; // later lines are mounted on top of earlier ones
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * The entry of the mount a front end has just made at {@code mountPoint} (absolute,
     * symlink-free).
     *
     * @throws FuseMountException if mountinfo does not show it
     */
    public static Entry justMounted(Path mountPoint) {
        return find(mountPoint).orElseThrow(
                () -> new FuseMountException("mounted, but " + mountPoint + " is not in mountinfo"));
    }

    public static boolean isMountPoint(Path mountPoint) {
        return find(mountPoint).isPresent();
    }

    // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
    private static Entry parse(String line) {
        String[] f = line.split(" ");
        int dash = 6;
        while (!f[dash].equals("-")) {
            dash++;
        }
        return new Entry(f[2], unescape(f[4]), f[dash + 1], unescape(f[dash + 2]));
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
