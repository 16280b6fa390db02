package io.daxfs.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything observable about a directory tree, read through the mount: for each path, its
 * type, permission bits, owner, size, link count, mtime and content hash (or symlink target).
 * Two snapshots are equal if the trees are identical.
 */
final class TreeSnapshot {
    private TreeSnapshot() {
    }

    record Entry(String type, int mode, int uid, int gid, long size, int nlink, FileTime mtime, String content) {
    }

    static Map<String, Entry> of(Path root) {
        Map<String, Entry> out = new TreeMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(root)) {
                        out.put(root.relativize(dir).toString(), entry(dir));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    out.put(root.relativize(file).toString(), entry(file));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static Entry entry(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,nlink,lastModifiedTime",
                LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String type;
        String content;
        if (Files.isSymbolicLink(p)) {
            type = "symlink";
            content = Files.readSymbolicLink(p).toString();
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            type = "dir";
            content = "";
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            type = "file";
            content = Daxfs.sha256(p);
        } else {
            type = "special:" + Integer.toOctalString(mode & 0170000);
            content = "";
        }
        // A directory's size is its allocated entry blocks: an implementation detail.
        long size = type.equals("dir") ? -1 : (Long) a.get("size");
        return new Entry(type, mode & 07777, (Integer) a.get("uid"), (Integer) a.get("gid"), size,
                (Integer) a.get("nlink"), (FileTime) a.get("lastModifiedTime"), content);
    }

    /** Fails listing only what differs: missing, extra and changed paths. */
    static void assertSame(Map<String, Entry> expected, Map<String, Entry> actual, String what) {
        StringBuilder diff = new StringBuilder();
        for (var e : expected.entrySet()) {
            Entry a = actual.get(e.getKey());
            if (a == null) {
                diff.append("\n  missing: ").append(e.getKey()).append(" ").append(e.getValue());
            } else if (!a.equals(e.getValue())) {
                diff.append("\n  changed: ").append(e.getKey()).append("\n    was ").append(e.getValue())
                        .append("\n    now ").append(a);
            }
        }
        for (var e : actual.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                diff.append("\n  extra: ").append(e.getKey()).append(" ").append(e.getValue());
            }
        }
        if (!diff.isEmpty()) {
            org.junit.jupiter.api.Assertions.fail(what + ": the tree differs (" + expected.size() + " entries before, "
                    + actual.size() + " after):" + diff);
        }
    }
}
