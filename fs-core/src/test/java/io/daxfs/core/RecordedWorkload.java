package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.PersistenceMode;
import io.daxfs.devdax.PmemRegion;
import io.daxfs.devdax.RecordingRegion;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

/**
 * A workload for the crash explorer ({@link CrashExplorer}): it runs on a file system whose
 * every store, flush and fence is recorded, and keeps what the explorer's oracle needs - for
 * every operation, the log positions where it started and returned, and the state it left.
 *
 * <p>Two kinds of operation:
 * <ul>
 *   <li>{@link #ns namespace operations} (anything that may change names: create, link,
 *       unlink, rename, mkdir, ... and the unmount): the whole visible state is taken before
 *       and after. None may overlap another operation. Promise: durable when it returns, all
 *       or nothing while it runs.</li>
 *   <li>{@link #on file operations} on named inodes (write, truncate, punch, fsync, chmod,
 *       setxattr, ...): the state of those inodes is taken when it returns. File operations on
 *       different inodes may overlap ({@link #background}). Promise: attributes and size
 *       durable when it returns; data durable after a later fsync of the inode returns, and
 *       until then each byte shows a value it had since its last durable point, never older
 *       bytes (docs/format.md, "Durability promise").</li>
 * </ul>
 *
 * <p>The file system runs on plain memory ({@link ScratchRegion}) and believes it is on
 * persistent memory ({@link PersistenceMode#CACHE_LINE_WRITEBACK} by default), so it flushes
 * and fences as it would there. Recording mounts with atime off: taking the state reads files
 * and must not store.
 */
public final class RecordedWorkload implements AutoCloseable {
    /** What a regular file, symlink, device or directory looks like, without times. */
    public record Full(int at, Names names, Map<Long, String> attrs, Map<Long, byte[]> contents) {
    }

    /**
     * Every path of the tree and the inode it names: directories breadth first, each one's
     * entries by name (a canonical order: equal trees give equal arrays).
     */
    public record Names(String[] paths, long[] inos, int hash) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Names x && x.hash == hash && Arrays.equals(x.paths, paths) && Arrays.equals(x.inos, inos);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < paths.length && i < 40; i++) {
                b.append(paths[i]).append('=').append(inos[i]).append(' ');
            }
            return b.append(paths.length > 40 ? "... (" + paths.length + " paths)" : "").toString();
        }
    }

    /**
     * One inode as an operation left it ({@code op} returned at log position {@code at});
     * {@code durable}: its data is durable from here on (start of recording, or fsync).
     */
    public record Entry(int at, int op, String attrs, byte[] content, boolean durable) {
        int length() {
            return content == null ? 0 : content.length;
        }
    }

    /** One operation: it ran from log position {@code start} to {@code end}. */
    public record Op(int index, String name, int start, int end, boolean namespace, long[] inos) {
        /** In flight at a crash at position p: begun and not returned. */
        boolean inFlightAt(int p) {
            return start < p && p < end;
        }
    }

    private final String name;
    private final Arena arena = Arena.ofShared();
    private final PersistenceMode mode;
    private RecordingRegion region;
    private DaxFileSystem fs;
    private byte[] base;
    private List<RecordingRegion.Event> log;
    private Geometry geometry;
    private final List<Op> ops = new ArrayList<>();
    private final List<Full> fulls = new ArrayList<>();
    private final Map<Integer, Full[]> aroundNamespaceOp = new HashMap<>();
    private final Map<Long, List<Entry>> history = new HashMap<>();
    private final Set<Long> tracked = new LinkedHashSet<>();
    private final Map<Long, Long> inFlightOn = new HashMap<>();
    private int inFlight;
    private boolean fileOpsSinceFull;
    private final Map<ByteContent, byte[]> contentPool = new HashMap<>();

    private RecordedWorkload(String name, PersistenceMode mode) {
        this.name = name;
        this.mode = mode;
    }

    /**
     * Formats {@code size} bytes of memory, runs {@code before} unrecorded, then mounts through
     * a recorder (and {@code wrap} around it: a test's broken copy of the region) and starts.
     */
    public static RecordedWorkload start(String name, long size, FormatOptions options, Consumer<DaxFileSystem> before,
                                         PersistenceMode mode, UnaryOperator<PmemRegion> wrap) {
        RecordedWorkload w = new RecordedWorkload(name, mode);
        try {
            MemorySegment memory = w.arena.allocate(size, 4096);
            ScratchRegion scratch = new ScratchRegion(memory, mode);
            DaxFileSystem.format(scratch, options);
            DaxFileSystem pre = DaxFileSystem.mount(scratch);
            before.accept(pre);
            pre.close();
            w.region = new RecordingRegion(scratch, mode);
            w.base = w.region.snapshot();
            w.fs = DaxFileSystem.mount(wrap.apply(w.region));
            w.geometry = w.fs.superblock().geometry();
            Full initial = w.full(0);
            w.fulls.add(initial);
            w.addEntries(initial, -1, true);
            Op mount = new Op(0, "mount", 0, w.region.eventCount(), true, new long[0]);
            w.ops.add(mount);
            w.aroundNamespaceOp.put(0, new Full[] {initial, initial});
            return w;
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
    }

    public static RecordedWorkload start(String name, long size, Consumer<DaxFileSystem> before) {
        return start(name, size, FormatOptions.defaults(), before, PersistenceMode.CACHE_LINE_WRITEBACK, r -> r);
    }

    public String name() {
        return name;
    }

    /** The recorded file system (to look things up between operations; changes go through the ops). */
    public DaxFileSystem fs() {
        return fs;
    }

    // ------------------------------------------------------------------ operations

    /** A namespace operation (may change anything); nothing else may run meanwhile. */
    public synchronized RecordedWorkload ns(String opName, Consumer<DaxFileSystem> op) {
        if (inFlight > 0) {
            throw new IllegalStateException(opName + ": a namespace operation must not overlap " + inFlight + " others");
        }
        Full before = fileOpsSinceFull || fulls.isEmpty() ? full(region.eventCount()) : fulls.getLast();
        int start = region.eventCount();
        op.accept(fs);
        int end = region.eventCount();
        int index = ops.size();
        ops.add(new Op(index, opName, start, end, true, new long[0]));
        Full after = full(end);
        fulls.add(after);
        aroundNamespaceOp.put(index, new Full[] {before, after});
        addEntries(after, index, false);
        fileOpsSinceFull = false;
        return this;
    }

    /** A file operation on {@code inos} (changes their data or attributes, no names). */
    public RecordedWorkload on(String opName, long[] inos, Consumer<DaxFileSystem> op) {
        Pending p = begin(opName, inos);
        op.accept(fs);
        finish(p, false);
        return this;
    }

    public RecordedWorkload on(String opName, long ino, Consumer<DaxFileSystem> op) {
        return on(opName, new long[] {ino}, op);
    }

    /** fsync of {@code ino}: its data is durable once this returns. */
    public RecordedWorkload fsync(long ino) {
        Pending p = begin("fsync " + ino, new long[] {ino});
        fs.fsync(ino);
        finish(p, true);
        return this;
    }

    /** Keeps inode {@code ino} (unnamed: O_TMPFILE, or unlinked while open) in every state taken. */
    public synchronized RecordedWorkload track(long ino) {
        tracked.add(ino);
        Entry e = entry(ino, region.eventCount(), ops.size() - 1, false);
        if (e != null) {
            history.computeIfAbsent(ino, k -> new ArrayList<>()).add(e);
        }
        return this;
    }

    public synchronized RecordedWorkload untrack(long ino) {
        tracked.remove(ino);
        return this;
    }

    private record Pending(String name, long[] inos, int start) {
    }

    private synchronized Pending begin(String opName, long[] inos) {
        for (long ino : inos) {
            if (inFlightOn.containsKey(ino)) {
                throw new IllegalStateException(opName + ": another operation on inode " + ino + " is in flight");
            }
            inFlightOn.put(ino, (long) ops.size());
        }
        inFlight++;
        return new Pending(opName, inos.clone(), region.eventCount());
    }

    private synchronized void finish(Pending p, boolean durable) {
        int end = region.eventCount();
        int index = ops.size();
        ops.add(new Op(index, p.name, p.start, end, false, p.inos));
        for (long ino : p.inos) {
            inFlightOn.remove(ino);
            Entry e = entry(ino, end, index, durable);
            if (e != null) {
                history.computeIfAbsent(ino, k -> new ArrayList<>()).add(e);
            }
        }
        inFlight--;
        fileOpsSinceFull = true;
    }

    /**
     * Starts a file operation on {@code ino} in another thread and returns when it reaches the
     * pause point {@code pausePoint} (or ends, if it never does); other operations then run
     * while it is in flight, until {@link Background#finish()} lets it go on.
     */
    public Background background(String opName, long[] inos, String pausePoint, Consumer<DaxFileSystem> op) {
        Background b = new Background(opName, inos, pausePoint, op);
        b.startAndAwaitPause();
        return b;
    }

    public Background background(String opName, long ino, String pausePoint, Consumer<DaxFileSystem> op) {
        return background(opName, new long[] {ino}, pausePoint, op);
    }

    public final class Background {
        private final Pending pending;
        private final String pausePoint;
        private final Consumer<DaxFileSystem> op;
        private final CountDownLatch paused = new CountDownLatch(1);
        private final CountDownLatch resume = new CountDownLatch(1);
        private final Thread thread;
        private volatile Throwable failure;
        private volatile boolean done;

        private Background(String opName, long[] inos, String pausePoint, Consumer<DaxFileSystem> op) {
            this.pausePoint = pausePoint;
            this.op = op;
            this.pending = begin(opName, inos);
            this.thread = new Thread(this::run, "explored-" + opName);
        }

        private void run() {
            try {
                op.accept(fs);
            } catch (Throwable t) {
                failure = t;
            } finally {
                done = true;
                paused.countDown();
            }
        }

        private void startAndAwaitPause() {
            Thread self = thread;
            boolean[] once = {false};
            fs.internals().pausePoints().install(pausePoint, ino -> {
                if (Thread.currentThread() == self && !once[0]) {
                    once[0] = true;
                    paused.countDown();
                    try {
                        if (!resume.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("never resumed");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            thread.start();
            try {
                if (!paused.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException(pending.name + " never reached " + pausePoint);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Whether the operation stopped at its pause point (rather than ending before it). */
        public boolean paused() {
            return !done;
        }

        /** Lets the operation go on and waits for it to return. */
        public void finish() {
            resume.countDown();
            try {
                thread.join(60_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            fs.internals().pausePoints().remove(pausePoint);
            if (failure != null) {
                throw new AssertionError(pending.name + " failed", failure);
            }
            RecordedWorkload.this.finish(pending, false);
        }
    }

    /** Unmounts (a namespace operation that changes nothing visible) and ends the recording. */
    public RecordedWorkload stop() {
        ns("unmount", DaxFileSystem::close);
        log = region.events();
        return this;
    }

    // ------------------------------------------------------------------ states

    private void addEntries(Full f, int op, boolean durable) {
        for (var e : f.attrs.entrySet()) {
            List<Entry> h = history.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
            byte[] content = f.contents.get(e.getKey());
            if (!h.isEmpty() && !durable) {
                Entry last = h.getLast();
                if (last.attrs.equals(e.getValue()) && last.content == content) {
                    continue; // unchanged
                }
            }
            h.add(new Entry(f.at, op, e.getValue(), content, durable));
        }
    }

    private Entry entry(long ino, int at, int op, boolean durable) {
        Attributes a;
        try {
            a = fs.getattr(ino);
        } catch (RuntimeException gone) {
            return null;
        }
        return new Entry(at, op, describe(fs, a), a.isRegular() ? pooled(content(fs, ino, a.size())) : null, durable);
    }

    /** The whole visible state (and the tracked unnamed inodes), taken at log position {@code at}. */
    private Full full(int at) {
        Full f = observe(fs, at, this::pooled);
        for (long ino : tracked) {
            if (!f.attrs.containsKey(ino)) {
                try {
                    Attributes a = fs.getattr(ino);
                    f.attrs.put(ino, describe(fs, a));
                    if (a.isRegular()) {
                        f.contents.put(ino, pooled(content(fs, ino, a.size())));
                    }
                } catch (RuntimeException gone) {
                    // freed since
                }
            }
        }
        return f;
    }

    private byte[] pooled(byte[] content) {
        return contentPool.computeIfAbsent(new ByteContent(content), k -> content);
    }

    /**
     * The visible state of a mounted file system: every path, and for every reachable inode
     * its attributes (without times) and, for regular files, its content.
     */
    static Full observe(DaxFileSystem fs, int at, UnaryOperator<byte[]> pool) {
        // Paths in a canonical order without sorting them all: directories breadth first, the
        // entries of each sorted by name (a TreeMap of 10,000 paths cost more than the rest).
        List<String> paths = new ArrayList<>();
        long[] inos = new long[64];
        Map<Long, String> attrs = new HashMap<>();
        Map<Long, byte[]> contents = new HashMap<>();
        ArrayDeque<Map.Entry<String, Long>> dirs = new ArrayDeque<>();
        paths.add("/");
        inos[0] = DaxFileSystem.ROOT;
        Attributes root = fs.getattr(DaxFileSystem.ROOT);
        attrs.put(DaxFileSystem.ROOT, describe(fs, root));
        dirs.add(Map.entry("/", DaxFileSystem.ROOT));
        while (!dirs.isEmpty()) {
            var dir = dirs.poll();
            String prefix = dir.getKey().equals("/") ? "/" : dir.getKey() + "/";
            List<DirEntry> entries = new ArrayList<>(fs.readdir(dir.getValue()));
            entries.removeIf(e -> e.name().equals(".") || e.name().equals(".."));
            entries.sort(java.util.Comparator.comparing(DirEntry::name));
            for (DirEntry e : entries) {
                String path = prefix + e.name();
                if (paths.size() == inos.length) {
                    inos = Arrays.copyOf(inos, inos.length * 2);
                }
                inos[paths.size()] = e.ino();
                paths.add(path);
                if (attrs.containsKey(e.ino())) {
                    continue;
                }
                Attributes a = fs.getattr(e.ino());
                attrs.put(e.ino(), describe(fs, a));
                if (a.isDirectory()) {
                    dirs.add(Map.entry(path, e.ino()));
                } else if (a.isRegular()) {
                    contents.put(e.ino(), pool.apply(content(fs, e.ino(), a.size())));
                }
            }
        }
        String[] p = paths.toArray(new String[0]);
        long[] n = Arrays.copyOf(inos, p.length);
        return new Full(at, new Names(p, n, Arrays.hashCode(p) * 31 + Arrays.hashCode(n)), attrs, contents);
    }

    /** Type, permissions, links, owner, generation, size (files and symlinks), rdev, symlink target, attributes. */
    static String describe(DaxFileSystem fs, Attributes a) {
        StringBuilder d = new StringBuilder();
        d.append(String.format("mode=%o nlink=%d uid=%d gid=%d gen=%d", a.mode(), a.nlink(), a.uid(), a.gid(),
                a.generation()));
        if (a.isRegular() || a.isSymlink()) {
            d.append(" size=").append(a.size());
        }
        if (a.isSymlink()) {
            d.append(" -> ").append(fs.readlink(a.ino()));
        }
        if (!a.isRegular() && !a.isDirectory() && !a.isSymlink()) {
            d.append(" rdev=").append(a.rdev());
        }
        List<String> names = new ArrayList<>(fs.listxattr(a.ino()));
        java.util.Collections.sort(names);
        for (String n : names) {
            byte[] v = fs.getxattr(a.ino(), n);
            CRC32C crc = new CRC32C();
            crc.update(v);
            d.append(' ').append(n).append('=').append(v.length).append(':').append(Long.toHexString(crc.getValue()));
        }
        return d.toString();
    }

    static byte[] content(DaxFileSystem fs, long ino, long size) {
        if (size > 64 << 20) {
            throw new IllegalStateException("file " + ino + " too large for the explorer: " + size);
        }
        byte[] b = new byte[(int) size];
        int done = 0;
        while (done < b.length) {
            int n = fs.read(ino, done, MemorySegment.ofArray(b), done, b.length - done);
            if (n <= 0) {
                throw new IllegalStateException("short read of inode " + ino + " at " + done + " of " + size);
            }
            done += n;
        }
        return b;
    }

    // ------------------------------------------------------------------ for the explorer

    byte[] base() {
        return base;
    }

    List<RecordingRegion.Event> log() {
        if (log == null) {
            throw new IllegalStateException("stop() the workload first");
        }
        return log;
    }

    Geometry geometry() {
        return geometry;
    }

    PersistenceMode mode() {
        return mode;
    }

    List<Op> ops() {
        return ops;
    }

    /** The full states taken after namespace operations (and the first), in log order. */
    List<Full> fulls() {
        return fulls;
    }

    /** For namespace operation {@code index}: the state before and after it. */
    Full[] around(int index) {
        return aroundNamespaceOp.get(index);
    }

    Map<Long, List<Entry>> history() {
        return history;
    }

    @Override
    public void close() {
        arena.close();
    }
}
