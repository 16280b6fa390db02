package io.daxfs.fuse.vfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The supplementary groups of the process that sent a FUSE request: FUSE passes only uid, gid
 * and pid, so they are read from the "Groups:" line of /proc/&lt;pid&gt;/task/&lt;pid&gt;/status
 * (the pid FUSE passes is the calling thread's id; groups are per thread), or of
 * /proc/&lt;pid&gt;/status. A process that is gone, or a /proc that cannot be read, has no
 * supplementary groups: access that depends on them is then refused, never granted.
 */
public final class ProcGroups {
    private ProcGroups() {
    }

    public static int[] of(long pid) {
        if (pid <= 0) {
            return new int[0];
        }
        for (Path status : new Path[] {Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "status"),
                Path.of("/proc", Long.toString(pid), "status")}) {
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("Groups:")) {
                        return parse(line.substring("Groups:".length()));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // try the next file; none readable means no groups
            }
        }
        return new int[0];
    }

    /** "\t4 24 27 " -> {4, 24, 27}. */
    static int[] parse(String list) {
        String s = list.strip();
        if (s.isEmpty()) {
            return new int[0];
        }
        String[] parts = s.split("\\s+");
        int[] groups = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            groups[i] = Integer.parseUnsignedInt(parts[i]);
        }
        return groups;
    }
}
