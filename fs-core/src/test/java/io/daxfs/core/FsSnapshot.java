package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.FsStats;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Everything a user can observe of a mounted daxfs, as a sorted map from path to a
 * description: type, permissions, link count, owner, rdev, size, and for regular files a CRC
 * of the content, for symlinks the target. Inode numbers are left out except as "hard link
 * group" so that two snapshots compare equal when the same names lead to the same data.
 * Times are included on request (to the nanosecond).
 */
public final class FsSnapshot {
    private FsSnapshot() {
    }

    public static TreeMap<String, String> of(DaxFileSystem fs) {
        return of(fs, false);
    }

    public static TreeMap<String, String> of(DaxFileSystem fs, boolean withTimes) {
        TreeMap<String, String> out = new TreeMap<>();
        Map<Long, String> firstPathOfInode = new HashMap<>();
        ArrayDeque<Map.Entry<String, Long>> todo = new ArrayDeque<>();
        todo.add(Map.entry("/", DaxFileSystem.ROOT));
        while (!todo.isEmpty()) {
            var cur = todo.poll();
            String path = cur.getKey();
            long ino = cur.getValue();
            Attributes a = fs.getattr(ino);
            StringBuilder d = new StringBuilder();
            d.append(String.format("mode=%o nlink=%d uid=%d gid=%d", a.mode(), a.nlink(), a.uid(), a.gid()));
            String earlier = firstPathOfInode.putIfAbsent(ino, path);
            if (earlier != null) {
                d.append(" hardlink-of=").append(earlier);
            }
            if (a.isDirectory()) {
                List<DirEntry> entries = fs.readdir(ino);
                d.append(" entries=").append(entries.size() - 2);
                for (DirEntry e : entries) {
                    if (e.name().equals(".") || e.name().equals("..")) {
                        continue;
                    }
                    todo.add(Map.entry(path.equals("/") ? "/" + e.name() : path + "/" + e.name(), e.ino()));
                }
            } else if (a.isSymlink()) {
                d.append(" -> ").append(fs.readlink(ino));
            } else if (a.isRegular()) {
                d.append(" size=").append(a.size());
                if (earlier == null) {
                    d.append(" crc=").append(Long.toHexString(crc(fs, ino, a.size())));
                }
            } else {
                d.append(" rdev=").append(a.rdev());
            }
            if (withTimes) {
                d.append(" atime=").append(a.atimeSec()).append('.').append(a.atimeNsec());
                d.append(" mtime=").append(a.mtimeSec()).append('.').append(a.mtimeNsec());
                d.append(" ctime=").append(a.ctimeSec()).append('.').append(a.ctimeNsec());
                d.append(" blocks=").append(a.blocks512());
            }
            out.put(path, d.toString());
        }
        return out;
    }

    /** CRC32C of the first {@code size} bytes, read in chunks. */
    public static long crc(DaxFileSystem fs, long ino, long size) {
        CRC32C crc = new CRC32C();
        byte[] buf = new byte[1 << 16];
        long off = 0;
        while (off < size) {
            int want = (int) Math.min(buf.length, size - off);
            int n = fs.read(ino, off, java.lang.foreign.MemorySegment.ofArray(buf), 0, want);
            assertEquals(want, n, "short read at " + off);
            crc.update(buf, 0, n);
            off += n;
        }
        return crc.getValue();
    }

    /**
     * Checks that statfs agrees with the inodes: the data blocks in use are exactly the blocks
     * the reachable inodes own (their block counts), and the inodes in use are exactly the
     * reachable inodes. Catches leaks and double counting.
     */
    public static void assertSpaceAccounted(DaxFileSystem fs) {
        Set<Long> seen = new HashSet<>();
        long blocks = 0;
        ArrayDeque<Long> todo = new ArrayDeque<>();
        todo.add(DaxFileSystem.ROOT);
        seen.add(DaxFileSystem.ROOT);
        while (!todo.isEmpty()) {
            long ino = todo.poll();
            Attributes a = fs.getattr(ino);
            assertEquals(0, a.blocks512() % 8, "blocks of inode " + ino);
            blocks += a.blocks512() / 8;
            if (a.isDirectory()) {
                for (DirEntry e : fs.readdir(ino)) {
                    if (!e.name().equals(".") && !e.name().equals("..") && seen.add(e.ino())) {
                        todo.add(e.ino());
                    }
                }
            }
        }
        FsStats st = fs.statfs();
        assertEquals(st.totalBlocks() - st.freeBlocks(), blocks,
                "blocks in use per statfs vs. blocks owned by the " + seen.size() + " reachable inodes");
        assertEquals(st.totalInodes() - st.freeInodes(), seen.size(), "inodes in use per statfs vs. reachable");
        assertTrue(st.freeBlocks() >= 0 && st.freeBlocks() <= st.totalBlocks());
    }
}
