package io.daxfs.it.soak;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What one worker's directory must hold: a tree of directories, regular files (with hard links:
 * one {@link File} under several names) and symbolic links, each with its mode, extended
 * attributes ({@code user.*}), file content byte for byte, and mtime where the model knows it,
 * plus the handles the worker keeps open (an open file can lose its last name and still be
 * written). The planner applies each op it plans; the checker replays the completed ops of a
 * cycle on a copy of the model made at the start of the cycle and compares the tree it finds
 * after the kill and remount with the result ({@link #compare}). The model of the next cycle
 * is then what was found ({@link #scan}): it has been shown to be one the rules allow.
 */
final class SoakModel {
    abstract static sealed class Node permits Dir, File, Symlink {
    }

    static final class Dir extends Node {
        final TreeMap<String, Node> entries = new TreeMap<>();
        final TreeMap<String, byte[]> xattrs = new TreeMap<>();
        int mode;
        /** st_nlink as found by a scan; -1 in a planned model. */
        long nlinkSeen = -1;

        Dir(int mode) {
            this.mode = mode;
        }
    }

    static final class File extends Node {
        final TreeMap<String, byte[]> xattrs = new TreeMap<>();
        int mode;
        byte[] data = new byte[0];
        /** The bytes of {@link #data} in the file; beyond it data holds zeros. */
        int size;
        /** mtime in nanoseconds since the epoch, or null where a data change made it unknown. */
        Long mtime;
        long nlinkSeen = -1;
        long ino = -1;

        File(int mode) {
            this.mode = mode;
        }

        byte at(int i) {
            return i < size ? data[i] : 0;
        }

        void write(long offset, byte[] bytes) {
            int end = Math.toIntExact(offset + bytes.length);
            ensure(end);
            System.arraycopy(bytes, 0, data, (int) offset, bytes.length);
            size = Math.max(size, end);
            mtime = null;
        }

        void truncate(long newSize) {
            int n = Math.toIntExact(newSize);
            if (n < size) {
                Arrays.fill(data, n, size, (byte) 0);
            } else {
                ensure(n);
            }
            size = n;
            mtime = null;
        }

        private void ensure(int capacity) {
            if (capacity > data.length) {
                data = Arrays.copyOf(data, Math.max(capacity, Math.min(data.length * 2, capacity + (1 << 20))));
            }
        }
    }

    static final class Symlink extends Node {
        final String target;

        Symlink(String target) {
            this.target = target;
        }
    }

    final Dir root;
    /** Handles the worker holds open in this cycle, by number. */
    final TreeMap<Integer, File> handles = new TreeMap<>();

    SoakModel(Dir root) {
        this.root = root;
    }

    /** A deep copy: hard links stay shared, handles point at the copies. */
    SoakModel copy() {
        IdentityHashMap<File, File> files = new IdentityHashMap<>();
        SoakModel c = new SoakModel(copyDir(root, files));
        handles.forEach((h, f) -> c.handles.put(h, copyFile(f, files)));
        return c;
    }

    private static Dir copyDir(Dir d, IdentityHashMap<File, File> files) {
        Dir c = new Dir(d.mode);
        c.xattrs.putAll(d.xattrs);
        c.nlinkSeen = d.nlinkSeen;
        d.entries.forEach((name, n) -> c.entries.put(name, switch (n) {
            case Dir sub -> copyDir(sub, files);
            case File f -> copyFile(f, files);
            case Symlink s -> s;
        }));
        return c;
    }

    private static File copyFile(File f, IdentityHashMap<File, File> files) {
        return files.computeIfAbsent(f, k -> {
            File c = new File(k.mode);
            c.xattrs.putAll(k.xattrs);
            c.data = k.data.clone();
            c.size = k.size;
            c.mtime = k.mtime;
            c.nlinkSeen = k.nlinkSeen;
            c.ino = k.ino;
            return c;
        });
    }

    // ---- paths ----

    static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }

    static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    /** The node at a path relative to the root ("" is the root), or null. */
    Node lookup(String path) {
        Node n = root;
        if (path.isEmpty()) {
            return n;
        }
        for (String part : path.split("/")) {
            if (!(n instanceof Dir d)) {
                return null;
            }
            n = d.entries.get(part);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    private Dir dir(String path) {
        if (lookup(path) instanceof Dir d) {
            return d;
        }
        throw new IllegalStateException("the model has no directory " + path);
    }

    private Node existing(String path) {
        Node n = lookup(path);
        if (n == null) {
            throw new IllegalStateException("the model has no " + path);
        }
        return n;
    }

    private File file(String path) {
        if (existing(path) instanceof File f) {
            return f;
        }
        throw new IllegalStateException(path + " is not a regular file in the model");
    }

    private static TreeMap<String, byte[]> xattrsOf(Node n) {
        return switch (n) {
            case Dir d -> d.xattrs;
            case File f -> f.xattrs;
            case Symlink s -> throw new IllegalStateException("no user.* attributes on a symbolic link");
        };
    }

    // ---- applying ops ----

    /** Applies an op the planner made for this model (so it is valid here). */
    void apply(SoakOp op) {
        switch (op.kind()) {
            case CREATE -> put(op.path(), new File((int) op.x()));
            case WRITE -> file(op.path()).write(op.x(), SoakOp.data(op.seed(), (int) op.y()));
            case FWRITE -> handles.get(op.handle()).write(op.x(), SoakOp.data(op.seed(), (int) op.y()));
            case TRUNCATE -> file(op.path()).truncate(op.x());
            case UNLINK, RMDIR -> remove(op.path());
            case MKDIR -> put(op.path(), new Dir((int) op.x()));
            case RENAME, NOREPLACE -> put(op.path2(), remove(op.path()));
            case EXCHANGE -> {
                Node a = existing(op.path());
                Node b = existing(op.path2());
                dir(parentOf(op.path())).entries.put(nameOf(op.path()), b);
                dir(parentOf(op.path2())).entries.put(nameOf(op.path2()), a);
            }
            case LINK -> put(op.path2(), file(op.path()));
            case SYMLINK -> put(op.path(), new Symlink(op.path2()));
            case SETXATTR -> xattrsOf(existing(op.path())).put(op.path2(), SoakOp.data(op.seed(), (int) op.y()));
            case RMXATTR -> xattrsOf(existing(op.path())).remove(op.path2());
            case CHMOD -> {
                switch (existing(op.path())) {
                    case Dir d -> d.mode = (int) op.x();
                    case File f -> f.mode = (int) op.x();
                    case Symlink s -> throw new IllegalStateException("chmod of a symbolic link");
                }
            }
            case UTIMENS -> file(op.path()).mtime = op.x() * 1_000_000_000L + op.y();
            case OPEN -> handles.put(op.handle(), file(op.path()));
            case CLOSE -> handles.remove(op.handle());
        }
    }

    private void put(String path, Node n) {
        dir(parentOf(path)).entries.put(nameOf(path), n);
    }

    private Node remove(String path) {
        Node n = dir(parentOf(path)).entries.remove(nameOf(path));
        if (n == null) {
            throw new IllegalStateException("the model has no " + path + " to remove");
        }
        return n;
    }

    // ---- what a real directory holds ----

    /**
     * Reads a real directory tree into a model: every name, type, mode, st_nlink, extended
     * attribute and file content, and each file's mtime (hard links found by inode number).
     */
    static SoakModel scan(Path dir) {
        try {
            Map<Long, File> byIno = new HashMap<>();
            return new SoakModel(scanDir(dir, byIno));
        } catch (IOException e) {
            throw new UncheckedIOException("scan of " + dir, e);
        }
    }

    private static Dir scanDir(Path p, Map<Long, File> byIno) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,nlink", LinkOption.NOFOLLOW_LINKS);
        Dir d = new Dir((Integer) a.get("mode") & 07777);
        d.nlinkSeen = ((Number) a.get("nlink")).longValue();
        readXattrs(p, d.xattrs);
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
            s.forEach(children::add);
        }
        for (Path c : children) {
            String name = c.getFileName().toString();
            Map<String, Object> ca = Files.readAttributes(c, "unix:mode,ino,nlink,size,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) ca.get("mode");
            Node n = switch (mode & 0170000) {
                case 0040000 -> scanDir(c, byIno);
                case 0120000 -> new Symlink(Files.readSymbolicLink(c).toString());
                case 0100000 -> {
                    long ino = ((Number) ca.get("ino")).longValue();
                    File known = byIno.get(ino);
                    if (known != null) {
                        yield known;
                    }
                    File f = new File(mode & 07777);
                    f.ino = ino;
                    f.nlinkSeen = ((Number) ca.get("nlink")).longValue();
                    f.mtime = ((FileTime) ca.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
                    long statSize = ((Number) ca.get("size")).longValue();
                    f.data = Files.readAllBytes(c);
                    f.size = f.data.length;
                    if (statSize != f.size) {
                        throw new IOException(c + ": st_size " + statSize + " but " + f.size + " bytes read");
                    }
                    readXattrs(c, f.xattrs);
                    byIno.put(ino, f);
                    yield f;
                }
                default -> throw new IOException(c + ": unexpected file type, mode " + Integer.toOctalString(mode));
            };
            d.entries.put(name, n);
        }
        return d;
    }

    private static void readXattrs(Path p, TreeMap<String, byte[]> into) throws IOException {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        for (String name : v.list()) {
            ByteBuffer b = ByteBuffer.allocate(v.size(name));
            v.read(name, b);
            into.put("user." + name, Arrays.copyOf(b.array(), b.position()));
        }
    }

    // ---- comparing ----

    /** An in-flight data write: each byte of its range may hold the old or the new value, the size anything between. */
    record PartialWrite(File file, long offset, byte[] bytes) {
    }

    /**
     * The differences between this (expected) model and one found by {@link #scan}, at most
     * {@code limit}; empty if they agree. With a {@link PartialWrite} (its file a node of this
     * model), that file's content and size are checked by its rule instead, and its mtime not.
     * Also checks what is true of any healthy tree: st_nlink of a directory is 2 + its
     * subdirectories, of a file its number of names.
     */
    List<String> compare(SoakModel found, PartialWrite partial, int limit) {
        Comparison c = new Comparison(partial, limit);
        c.names(root);
        c.dir("", root, found.root);
        return c.diffs;
    }

    private static final class Comparison {
        final PartialWrite partial;
        final int limit;
        final List<String> diffs = new ArrayList<>();
        final IdentityHashMap<File, Integer> names = new IdentityHashMap<>();
        final IdentityHashMap<File, File> expectedToFound = new IdentityHashMap<>();
        final IdentityHashMap<File, File> foundToExpected = new IdentityHashMap<>();

        Comparison(PartialWrite partial, int limit) {
            this.partial = partial;
            this.limit = limit;
        }

        void diff(String s) {
            if (diffs.size() < limit) {
                diffs.add(s);
            }
        }

        void names(Dir d) {
            for (Node n : d.entries.values()) {
                switch (n) {
                    case Dir sub -> names(sub);
                    case File f -> names.merge(f, 1, Integer::sum);
                    case Symlink s -> {
                    }
                }
            }
        }

        String show(String path) {
            return path.isEmpty() ? "(worker root)" : path;
        }

        void dir(String path, Dir e, Dir f) {
            if (e.mode != f.mode) {
                diff(show(path) + ": directory mode " + Integer.toOctalString(f.mode) + ", expected "
                        + Integer.toOctalString(e.mode));
            }
            xattrs(path, e.xattrs, f.xattrs);
            long subdirs = f.entries.values().stream().filter(n -> n instanceof Dir).count();
            if (f.nlinkSeen != 2 + subdirs) {
                diff(show(path) + ": directory st_nlink " + f.nlinkSeen + " with " + subdirs + " subdirectories");
            }
            TreeSet<String> all = new TreeSet<>(e.entries.keySet());
            all.addAll(f.entries.keySet());
            for (String name : all) {
                String p = join(path, name);
                Node en = e.entries.get(name);
                Node fn = f.entries.get(name);
                if (fn == null) {
                    diff(p + ": missing (expected " + describe(en) + ")");
                } else if (en == null) {
                    diff(p + ": should not exist (found " + describe(fn) + ")");
                } else {
                    node(p, en, fn);
                }
            }
        }

        void node(String p, Node e, Node f) {
            switch (e) {
                case Dir ed when f instanceof Dir fd -> dir(p, ed, fd);
                case Symlink es when f instanceof Symlink fs -> {
                    if (!es.target.equals(fs.target)) {
                        diff(p + ": symbolic link to " + fs.target + ", expected " + es.target);
                    }
                }
                case File ef when f instanceof File ff -> file(p, ef, ff);
                default -> diff(p + ": found " + describe(f) + ", expected " + describe(e));
            }
        }

        void file(String p, File e, File f) {
            File knownFound = expectedToFound.get(e);
            File knownExpected = foundToExpected.get(f);
            if (knownFound != null || knownExpected != null) {
                if (knownFound != f || knownExpected != e) {
                    diff(p + ": hard links differ (inode " + f.ino + " is not the file expected under this name)");
                }
                return; // compared at its first name
            }
            expectedToFound.put(e, f);
            foundToExpected.put(f, e);
            if (e.mode != f.mode) {
                diff(p + ": mode " + Integer.toOctalString(f.mode) + ", expected " + Integer.toOctalString(e.mode));
            }
            int links = names.getOrDefault(e, 0);
            if (f.nlinkSeen != links) {
                diff(p + ": st_nlink " + f.nlinkSeen + ", expected " + links);
            }
            xattrs(p, e.xattrs, f.xattrs);
            boolean partialHere = partial != null && partial.file == e;
            if (!partialHere && e.mtime != null && !e.mtime.equals(f.mtime)) {
                diff(p + ": mtime " + f.mtime + " ns, expected " + e.mtime);
            }
            if (partialHere) {
                partialContent(p, e, f);
            } else if (e.size != f.size) {
                diff(p + ": size " + f.size + ", expected " + e.size + firstDifference(e, f, Math.min(e.size, f.size)));
            } else {
                String d = firstDifference(e, f, e.size);
                if (!d.isEmpty()) {
                    diff(p + ": content differs" + d);
                }
            }
        }

        private static String firstDifference(File e, File f, int upTo) {
            int i = Arrays.mismatch(e.data, 0, upTo, f.data, 0, upTo);
            if (i < 0) {
                return "";
            }
            int end = i;
            while (end < upTo && e.data[end] != f.data[end]) {
                end++;
            }
            return " (first differing byte at " + i + ", " + (end - i) + " differing from there; found "
                    + Byte.toUnsignedInt(f.data[i]) + ", expected " + Byte.toUnsignedInt(e.data[i]) + ")";
        }

        private void partialContent(String p, File e, File f) {
            long off = partial.offset;
            long end = off + partial.bytes.length;
            if (f.size < e.size || f.size > Math.max(e.size, end)) {
                diff(p + ": size " + f.size + " after a write of [" + off + ", " + end + ") in flight, expected "
                        + e.size + ".." + Math.max(e.size, end));
                return;
            }
            for (int i = 0; i < f.size; i++) {
                byte found = f.data[i];
                byte old = e.at(i);
                if (found == old) {
                    continue;
                }
                if (i >= off && i < end && found == partial.bytes[(int) (i - off)]) {
                    continue;
                }
                diff(p + ": byte " + i + " is " + Byte.toUnsignedInt(found) + ", neither the old "
                        + Byte.toUnsignedInt(old) + (i >= off && i < end ? " nor the new "
                        + Byte.toUnsignedInt(partial.bytes[(int) (i - off)]) : " (outside the write in flight)"));
                return;
            }
        }

        void xattrs(String p, TreeMap<String, byte[]> e, TreeMap<String, byte[]> f) {
            TreeSet<String> all = new TreeSet<>(e.keySet());
            all.addAll(f.keySet());
            for (String name : all) {
                byte[] ev = e.get(name);
                byte[] fv = f.get(name);
                if (fv == null) {
                    diff(show(p) + ": attribute " + name + " missing");
                } else if (ev == null) {
                    diff(show(p) + ": attribute " + name + " should not exist (" + fv.length + " bytes)");
                } else if (!Arrays.equals(ev, fv)) {
                    diff(show(p) + ": attribute " + name + " has " + fv.length + " bytes, expected " + ev.length
                            + (ev.length == fv.length ? " (content differs)" : ""));
                }
            }
        }
    }

    static String describe(Node n) {
        return switch (n) {
            case Dir d -> "a directory of " + d.entries.size() + " entries";
            case File f -> "a file of " + f.size + " bytes";
            case Symlink s -> "a symbolic link to " + s.target;
        };
    }

    // ---- statistics ----

    /** Counts of what a model holds: entries (names), distinct files, bytes of file data, attributes. */
    record Census(long entries, long files, long bytes, long xattrs) {
    }

    Census census() {
        long[] c = new long[4];
        IdentityHashMap<File, Boolean> seen = new IdentityHashMap<>();
        census(root, c, seen);
        return new Census(c[0], c[1], c[2], c[3]);
    }

    private static void census(Dir d, long[] c, IdentityHashMap<File, Boolean> seen) {
        c[3] += d.xattrs.size();
        for (Node n : d.entries.values()) {
            c[0]++;
            switch (n) {
                case Dir sub -> census(sub, c, seen);
                case File f -> {
                    if (seen.put(f, Boolean.TRUE) == null) {
                        c[1]++;
                        c[2] += f.size;
                        c[3] += f.xattrs.size();
                    }
                }
                case Symlink s -> {
                }
            }
        }
    }
}
