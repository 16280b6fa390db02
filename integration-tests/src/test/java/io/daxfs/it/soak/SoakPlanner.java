package io.daxfs.it.soak;

import io.daxfs.it.soak.SoakModel.Dir;
import io.daxfs.it.soak.SoakModel.File;
import io.daxfs.it.soak.SoakModel.Node;
import io.daxfs.it.soak.SoakModel.Symlink;
import io.daxfs.it.soak.SoakOp.Kind;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.SplittableRandom;

import static io.daxfs.it.soak.SoakModel.join;

/**
 * Plans a worker's ops for one cycle from its model: each op is valid where it runs (the
 * planner applies it to the model before choosing the next), so an error before the kill is a
 * failure of the file system, never of the plan. The mix: data writes (half of them fsync'd,
 * appends, overwrites, writes past the end, now and then up to 1 MiB), creates, unlinks,
 * mkdir and rmdir, renames (to new names, over existing files and over empty directories,
 * directories across directories), renameat2 exchange and noreplace (where the front end has
 * them), hard and symbolic links, truncates both ways, extended attributes (inline and out of
 * line sizes, set, replace, remove), chmod, utimensat, and files kept open while they are
 * renamed over or unlinked and written after. A directory {@value #CHURN} at the worker's root
 * sees only creates, renames and unlinks, to a few hundred entries and back. Everything is a
 * function of the random generator, so a seed plans the same ops again.
 */
final class SoakPlanner {
    static final String CHURN = "churn";
    static final int HANDLES = 4;
    /** Entries outside the churn directory. */
    static final int MAX_ENTRIES = 220;
    static final int MAX_CHURN = 400;
    static final int MAX_DEPTH = 5;
    static final int SMALL_FILE = 256 << 10;
    static final int BIG_FILE = 3 << 20;
    /** File data a worker's tree may hold (open unlinked files included). */
    static final long MAX_BYTES = 8L << 20;
    static final int MAX_XATTRS = 6;

    private static final int[] FILE_MODES = {0644, 0600, 0640, 0755, 0444, 0660, 0700};
    private static final int[] DIR_MODES = {0755, 0700, 0750, 0775, 01777};

    private final SplittableRandom rnd;
    private final boolean renameFlags;
    /** Whether the churn directory is growing (else shrinking); turns at its limits. */
    private boolean churnGrowing;

    /** @param renameFlags whether the mount's front end has renameat2's RENAME_EXCHANGE and RENAME_NOREPLACE */
    SoakPlanner(SplittableRandom rnd, boolean renameFlags) {
        this.rnd = rnd;
        this.renameFlags = renameFlags;
        this.churnGrowing = rnd.nextBoolean();
    }

    /** {@code n} ops, each applied to {@code m} as it is planned. */
    List<SoakOp> plan(SoakModel m, int n) {
        List<SoakOp> ops = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SoakOp op = next(m);
            m.apply(op);
            ops.add(op);
        }
        return ops;
    }

    /** A name, a node, its parent directory's path, its depth. */
    private record Entry(String path, Node node, int depth) {
    }

    /** The view of a model the choices need: every entry outside the churn directory, and the data size. */
    private static final class View {
        final List<Entry> entries = new ArrayList<>();
        final List<Entry> dirs = new ArrayList<>();
        final List<Entry> files = new ArrayList<>();
        long bytes;
    }

    private View view(SoakModel m) {
        View v = new View();
        v.dirs.add(new Entry("", m.root, 0));
        IdentityHashMap<File, Boolean> seen = new IdentityHashMap<>();
        walk(m.root, "", 1, v, seen);
        for (File f : m.handles.values()) {
            if (seen.put(f, Boolean.TRUE) == null) {
                v.bytes += f.size;
            }
        }
        if (m.lookup(CHURN) instanceof Dir churn) {
            for (Node n : churn.entries.values()) {
                if (n instanceof File f && seen.put(f, Boolean.TRUE) == null) {
                    v.bytes += f.size;
                }
            }
        }
        return v;
    }

    private void walk(Dir d, String path, int depth, View v, IdentityHashMap<File, Boolean> seen) {
        d.entries.forEach((name, n) -> {
            if (depth == 1 && name.equals(CHURN)) {
                return;
            }
            Entry e = new Entry(join(path, name), n, depth);
            v.entries.add(e);
            switch (n) {
                case Dir sub -> {
                    v.dirs.add(e);
                    walk(sub, e.path, depth + 1, v, seen);
                }
                case File f -> {
                    v.files.add(e);
                    if (seen.put(f, Boolean.TRUE) == null) {
                        v.bytes += f.size;
                    }
                }
                case Symlink s -> {
                }
            }
        });
    }

    SoakOp next(SoakModel m) {
        View v = view(m);
        for (int attempt = 0; ; attempt++) {
            int r = rnd.nextInt(100);
            SoakOp op;
            if (r < 18) {
                op = write(m, v);
            } else if (r < 26) {
                op = create(v);
            } else if (r < 33) {
                op = unlink(v);
            } else if (r < 37) {
                op = mkdir(v);
            } else if (r < 40) {
                op = rmdir(v);
            } else if (r < 50) {
                op = rename(v);
            } else if (r < 53) {
                op = renameFlags ? exchange(v) : null;
            } else if (r < 55) {
                op = renameFlags ? noreplace(v) : null;
            } else if (r < 58) {
                op = link(v);
            } else if (r < 61) {
                op = symlink(v);
            } else if (r < 67) {
                op = truncate(v);
            } else if (r < 72) {
                op = setxattr(v);
            } else if (r < 75) {
                op = rmxattr(v);
            } else if (r < 78) {
                op = chmod(v);
            } else if (r < 80) {
                op = utimens(v);
            } else if (r < 82) {
                op = open(m, v);
            } else if (r < 86) {
                op = fwrite(m, v);
            } else if (r < 87) {
                op = close(m);
            } else {
                op = churn(m, v);
            }
            if (op != null) {
                return op;
            }
            if (attempt > 1000) {
                throw new IllegalStateException("the planner finds no valid op");
            }
        }
    }

    // ---- choices ----

    private <T> T pick(List<T> from) {
        return from.isEmpty() ? null : from.get(rnd.nextInt(from.size()));
    }

    private Entry pickFile(View v) {
        return pick(v.files);
    }

    /** A name not in {@code d}: mostly short, sometimes long (up to 255 bytes), sometimes not ASCII. */
    private String newName(Dir d, char prefix) {
        while (true) {
            String name;
            int r = rnd.nextInt(100);
            String id = Integer.toString(rnd.nextInt(1 << 30), 36);
            if (r < 85) {
                name = prefix + id;
            } else if (r < 95) {
                name = prefix + id + "-" + "x".repeat(20 + rnd.nextInt(234 - id.length())); // at most 255 bytes
            } else {
                name = prefix + id + "-é文件";
            }
            if (!d.entries.containsKey(name) && !name.equals(CHURN)) {
                return name;
            }
        }
    }

    /** A directory to put a new entry in: shallow enough, not inside {@code notUnder}. */
    private Entry pickDir(View v, String notUnder) {
        for (int i = 0; i < 20; i++) {
            Entry d = pick(v.dirs);
            if (d.depth < MAX_DEPTH && (notUnder == null || !isUnder(d.path, notUnder))) {
                return d;
            }
        }
        return v.dirs.getFirst(); // the root
    }

    /** Levels of directories in a subtree: 1 for an empty directory or a non-directory. */
    private static int height(Node n) {
        int h = 0;
        if (n instanceof Dir d) {
            for (Node c : d.entries.values()) {
                h = Math.max(h, height(c));
            }
        }
        return h + 1;
    }

    private static boolean isUnder(String path, String ancestor) {
        return path.equals(ancestor) || path.startsWith(ancestor + "/");
    }

    private boolean full(View v) {
        return v.entries.size() >= MAX_ENTRIES;
    }

    /** An offset and length for a write to a file of {@code size} bytes, within the size and data budgets; null if none. */
    private long[] writeRange(View v, int size) {
        int r = rnd.nextInt(100);
        int len = r < 70 ? 1 + rnd.nextInt(8 << 10) : r < 95 ? (8 << 10) + rnd.nextInt(120 << 10)
                : (128 << 10) + rnd.nextInt(896 << 10);
        int cap = len > (128 << 10) || rnd.nextInt(20) == 0 ? BIG_FILE : SMALL_FILE;
        long off;
        int where = rnd.nextInt(100);
        if (where < 30) {
            off = size; // append
        } else if (where < 80) {
            off = size == 0 ? 0 : rnd.nextInt(size);
        } else {
            off = size + rnd.nextInt(64 << 10); // past the end: a gap of zeros
        }
        long growth = Math.max(0, off + len - size);
        if (off + len > cap || v.bytes + growth > MAX_BYTES) {
            if (size == 0) {
                return null;
            }
            off = rnd.nextInt(size); // an overwrite inside the file
            len = (int) Math.min(len, size - off);
        }
        return new long[] {off, len};
    }

    private SoakOp write(SoakModel m, View v) {
        Entry e = pickFile(v);
        if (e == null) {
            return null;
        }
        long[] r = writeRange(v, ((File) e.node).size);
        return r == null ? null : new SoakOp(Kind.WRITE, e.path, null, r[0], r[1], rnd.nextLong(), -1, rnd.nextBoolean());
    }

    private SoakOp fwrite(SoakModel m, View v) {
        if (m.handles.isEmpty()) {
            return null;
        }
        List<Integer> open = new ArrayList<>(m.handles.keySet());
        int h = pick(open);
        long[] r = writeRange(v, m.handles.get(h).size);
        return r == null ? null : new SoakOp(Kind.FWRITE, null, null, r[0], r[1], rnd.nextLong(), h, rnd.nextBoolean());
    }

    private SoakOp open(SoakModel m, View v) {
        Entry e = pickFile(v);
        if (e == null || m.handles.size() >= HANDLES) {
            return null;
        }
        int h = 0;
        while (m.handles.containsKey(h)) {
            h++;
        }
        return new SoakOp(Kind.OPEN, e.path, null, 0, 0, 0, h, false);
    }

    private SoakOp close(SoakModel m) {
        if (m.handles.isEmpty()) {
            return null;
        }
        return new SoakOp(Kind.CLOSE, null, null, 0, 0, 0, pick(new ArrayList<>(m.handles.keySet())), false);
    }

    private SoakOp create(View v) {
        if (full(v)) {
            return null;
        }
        Entry d = pickDir(v, null);
        return SoakOp.withNumber(Kind.CREATE, join(d.path, newName((Dir) d.node, 'f')), FILE_MODES[rnd.nextInt(FILE_MODES.length)]);
    }

    private SoakOp unlink(View v) {
        List<Entry> candidates = v.entries.stream().filter(e -> !(e.node instanceof Dir)).toList();
        Entry e = pick(candidates);
        // Fewer unlinks while the tree is small, so that it grows to its size and stays there.
        if (e == null || (v.entries.size() < MAX_ENTRIES / 3 && rnd.nextInt(3) != 0)) {
            return null;
        }
        return SoakOp.of(Kind.UNLINK, e.path);
    }

    private SoakOp mkdir(View v) {
        if (full(v)) {
            return null;
        }
        Entry d = pickDir(v, null);
        return SoakOp.withNumber(Kind.MKDIR, join(d.path, newName((Dir) d.node, 'd')), DIR_MODES[rnd.nextInt(DIR_MODES.length)]);
    }

    private SoakOp rmdir(View v) {
        List<Entry> empty = v.entries.stream().filter(e -> e.node instanceof Dir d && d.entries.isEmpty()).toList();
        Entry e = pick(empty);
        return e == null ? null : SoakOp.of(Kind.RMDIR, e.path);
    }

    private SoakOp rename(View v) {
        Entry src = pick(v.entries);
        if (src == null) {
            return null;
        }
        boolean dir = src.node instanceof Dir;
        if (rnd.nextInt(100) < 40) {
            // Over an existing entry: a non-directory over a non-directory (another file), a
            // directory over an empty directory that is not inside it.
            List<Entry> targets = v.entries.stream().filter(t -> t != src && t.node != src.node
                    && (dir ? t.node instanceof Dir d && d.entries.isEmpty() && !isUnder(t.path, src.path)
                            : !(t.node instanceof Dir))).toList();
            Entry t = pick(targets);
            if (t != null) {
                return SoakOp.of(Kind.RENAME, src.path, t.path);
            }
        }
        Entry d = pickDir(v, dir ? src.path : null);
        if (dir && (isUnder(d.path, src.path) || d.depth + height(src.node) > MAX_DEPTH)) {
            return null;
        }
        return SoakOp.of(Kind.RENAME, src.path, join(d.path, newName((Dir) d.node, dir ? 'd' : 'r')));
    }

    private SoakOp noreplace(View v) {
        Entry src = pick(v.entries);
        if (src == null) {
            return null;
        }
        boolean dir = src.node instanceof Dir;
        Entry d = pickDir(v, dir ? src.path : null);
        if (dir && (isUnder(d.path, src.path) || d.depth + height(src.node) > MAX_DEPTH)) {
            return null;
        }
        return SoakOp.of(Kind.NOREPLACE, src.path, join(d.path, newName((Dir) d.node, 'n')));
    }

    private SoakOp exchange(View v) {
        Entry a = pick(v.entries);
        Entry b = pick(v.entries);
        if (a == null || a == b || a.node == b.node || isUnder(a.path, b.path) || isUnder(b.path, a.path)
                || b.depth + height(a.node) - 1 > MAX_DEPTH || a.depth + height(b.node) - 1 > MAX_DEPTH) {
            return null;
        }
        return SoakOp.of(Kind.EXCHANGE, a.path, b.path);
    }

    private SoakOp link(View v) {
        Entry f = pickFile(v);
        if (f == null || full(v)) {
            return null;
        }
        Entry d = pickDir(v, null);
        return SoakOp.of(Kind.LINK, f.path, join(d.path, newName((Dir) d.node, 'h')));
    }

    private SoakOp symlink(View v) {
        if (full(v)) {
            return null;
        }
        Entry d = pickDir(v, null);
        Entry to = pick(v.entries);
        String target = to != null && rnd.nextBoolean() ? "/" + to.path
                : "../" + "t".repeat(1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 1000 : 40));
        return SoakOp.of(Kind.SYMLINK, join(d.path, newName((Dir) d.node, 's')), target);
    }

    private SoakOp truncate(View v) {
        Entry e = pickFile(v);
        if (e == null) {
            return null;
        }
        int size = ((File) e.node).size;
        int r = rnd.nextInt(100);
        long to;
        if (r < 45) {
            to = size == 0 ? 0 : rnd.nextInt(size + 1);
        } else if (r < 60) {
            to = 0;
        } else {
            to = size + 1 + rnd.nextInt(128 << 10);
            if (to > SMALL_FILE || v.bytes + (to - size) > MAX_BYTES) {
                to = size / 2;
            }
        }
        return SoakOp.withNumber(Kind.TRUNCATE, e.path, to);
    }

    private SoakOp setxattr(View v) {
        Entry e = pick(v.entries.stream().filter(x -> !(x.node instanceof Symlink)).toList());
        if (e == null) {
            return null;
        }
        var attrs = e.node instanceof Dir d ? d.xattrs : ((File) e.node).xattrs;
        String name;
        if (!attrs.isEmpty() && (attrs.size() >= MAX_XATTRS || rnd.nextInt(100) < 40)) {
            name = pick(new ArrayList<>(attrs.keySet())); // replace
        } else {
            name = "user.a" + Integer.toString(rnd.nextInt(1 << 20), 36);
        }
        int r = rnd.nextInt(100);
        int len = r < 80 ? rnd.nextInt(200) : r < 95 ? 200 + rnd.nextInt(1848) : 2049 + rnd.nextInt(8000);
        return new SoakOp(Kind.SETXATTR, e.path, name, 0, len, rnd.nextLong(), -1, false);
    }

    private SoakOp rmxattr(View v) {
        List<Entry> with = v.entries.stream().filter(x -> x.node instanceof Dir d ? !d.xattrs.isEmpty()
                : x.node instanceof File f && !f.xattrs.isEmpty()).toList();
        Entry e = pick(with);
        if (e == null) {
            return null;
        }
        var attrs = e.node instanceof Dir d ? d.xattrs : ((File) e.node).xattrs;
        return SoakOp.of(Kind.RMXATTR, e.path, pick(new ArrayList<>(attrs.keySet())));
    }

    private SoakOp chmod(View v) {
        Entry e = pick(v.entries.stream().filter(x -> !(x.node instanceof Symlink)).toList());
        if (e == null) {
            return null;
        }
        int[] modes = e.node instanceof Dir ? DIR_MODES : FILE_MODES;
        return SoakOp.withNumber(Kind.CHMOD, e.path, modes[rnd.nextInt(modes.length)]);
    }

    private SoakOp utimens(View v) {
        Entry e = pickFile(v);
        if (e == null) {
            return null;
        }
        return new SoakOp(Kind.UTIMENS, e.path, null, 1_000_000_000L + rnd.nextInt(1_000_000_000),
                rnd.nextInt(1_000_000_000), 0, -1, false);
    }

    /** Directory churn: creates up to a few hundred entries, renames among them, unlinks back down. */
    private SoakOp churn(SoakModel m, View v) {
        if (!(m.lookup(CHURN) instanceof Dir c)) {
            return SoakOp.withNumber(Kind.MKDIR, CHURN, 0755);
        }
        int n = c.entries.size();
        int r = rnd.nextInt(100);
        if (n > 0 && r < 15) {
            String from = pick(new ArrayList<>(c.entries.keySet()));
            return SoakOp.of(Kind.RENAME, join(CHURN, from), join(CHURN, newName(c, 'c')));
        }
        // Grow to the limit, then shrink to a few entries, and again: the directory swings up and down.
        if (n >= MAX_CHURN) {
            churnGrowing = false;
        } else if (n < 10) {
            churnGrowing = true;
        }
        if (n == 0 || churnGrowing == (r < 85)) {
            return SoakOp.withNumber(Kind.CREATE, join(CHURN, newName(c, 'c')), 0644);
        }
        return SoakOp.of(Kind.UNLINK, join(CHURN, pick(new ArrayList<>(c.entries.keySet()))));
    }
}
