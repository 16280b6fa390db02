package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.CrashImages;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.RecordingRegion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A workload whose every store, flush and fence was recorded ({@link RecordingRegion}), with the
 * visible state {@code S} after each of its operations, and the checks of the crash states it
 * can leave: each image must pass fsck, mount, show the state after some prefix of the
 * operations (every operation all or nothing, and never going back behind what was durable),
 * account for its space and take new work. Images come from {@link CrashImages} or from the
 * caller ({@link #checkImage}).
 */
public final class RecordedWorkload<S> implements AutoCloseable {
    private final Path dir;
    private final Function<DaxFileSystem, S> state;
    private final List<S> states = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private byte[] base;
    private List<RecordingRegion.Event> log;
    private DaxFileSystem recording;
    private RecordingRegion region;
    private OpenedDevice device;
    private io.daxfs.core.format.Geometry geometry;

    private RecordedWorkload(Function<DaxFileSystem, S> state) {
        this.dir = TestDevice.newTempDir();
        this.state = state;
    }

    /**
     * Formats a device of {@code size}, runs {@code before} unrecorded, then starts recording:
     * add the workload's operations with {@link #step}, and finish with {@link #stop}.
     */
    public static <S> RecordedWorkload<S> start(long size, Consumer<DaxFileSystem> before,
                                                Function<DaxFileSystem, S> state) {
        RecordedWorkload<S> w = new RecordedWorkload<>(state);
        try {
            w.device = TestDevice.open(w.dir.resolve("recorded.img"), size);
            DaxFileSystem.format(w.device.region(), FormatOptions.defaults());
            DaxFileSystem pre = DaxFileSystem.mount(w.device.region());
            before.accept(pre);
            pre.close();
            w.region = new RecordingRegion(w.device.region());
            w.base = w.region.snapshot();
            w.recording = DaxFileSystem.mount(w.region);
            w.geometry = w.recording.superblock().geometry();
            w.states.add(state.apply(w.recording));
            w.names.add("(start)");
            return w;
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
    }

    /** Runs one operation of the workload and records the state after it, which must differ. */
    public RecordedWorkload<S> step(String name, Consumer<DaxFileSystem> op) {
        op.accept(recording);
        S s = state.apply(recording);
        assertNotEquals(states.getLast(), s, name + " changed nothing visible");
        states.add(s);
        names.add(name);
        return this;
    }

    /** Ends the recording. */
    public RecordedWorkload<S> stop() {
        recording.close();
        log = region.events();
        device.close();
        device = null;
        return this;
    }

    public byte[] base() {
        return base;
    }

    public List<RecordingRegion.Event> log() {
        return log;
    }

    public io.daxfs.core.format.Geometry geometry() {
        return geometry;
    }

    /** Number of operations. */
    public int operations() {
        return states.size() - 1;
    }

    /**
     * Checks every crash image {@link CrashImages} derives from the log ({@code variants}
     * partial-epoch variants per epoch, chosen with {@code seed}); returns how many.
     */
    public long checkEveryCrashImage(int variants, long seed) {
        long total = CrashImages.count(log, variants);
        Iterator<CrashImages.CrashImage> it = CrashImages.iterator(base, log, variants, seed);
        int lastPrefix = 0;
        int maxInEpoch = 0;
        long checked = 0;
        while (it.hasNext()) {
            CrashImages.CrashImage img = it.next();
            String what = img.describe() + " (seed " + seed + ")";
            int k = checkImage(img.image(), what);
            switch (img.kind()) {
                case DURABLE_PREFIX -> {
                    assertTrue(k >= lastPrefix && k >= maxInEpoch,
                            what + " shows the state after " + k + " operations; an earlier crash showed more");
                    lastPrefix = k;
                    maxInEpoch = k;
                }
                case PARTIAL_EPOCH -> {
                    assertTrue(k >= lastPrefix, what + " went back before its durable prefix");
                    maxInEpoch = Math.max(maxInEpoch, k);
                }
                case FINAL -> assertEquals(operations(), k, what + ": the whole log must show every operation");
            }
            checked++;
        }
        assertEquals(total, checked);
        return checked;
    }

    /**
     * Writes {@code image} to a fresh file, checks it with fsck, mounts it and finds which
     * prefix of the workload it shows; checks space accounting and that new work goes through
     * and frees cleanly. Returns the number of operations visible.
     */
    public int checkImage(byte[] image, String what) {
        Path file = dir.resolve("crash-" + System.nanoTime() + ".img");
        try {
            Files.write(file, image);
            try (OpenedDevice d = TestDevice.openExisting(file)) {
                FsckSupport.assertClean(d.region().readView(), what + ", before mount");
                DaxFileSystem fs;
                try {
                    fs = DaxFileSystem.mount(d.region());
                } catch (RuntimeException e) {
                    throw new AssertionError(what + ": mount failed: " + e, e);
                }
                S seen = state.apply(fs);
                int k = states.indexOf(seen);
                if (k < 0) {
                    fail(what + " shows a state that no prefix of the workload has:\n" + seen + "\nexpected one of:\n"
                            + String.join("\n", states.stream().map(Object::toString).toList()));
                }
                FsSnapshot.assertSpaceAccounted(fs);
                FsckSupport.assertClean(d.region().readView(), what + ", after mount");
                long free = fs.statfs().freeBlocks();
                String probe = "probe-" + System.nanoTime();
                TestDevice.write(fs, fs.create(DaxFileSystem.ROOT, probe, 0644, 0, 0), 0, TestDevice.pattern(104, 0, 9000));
                fs.unlink(DaxFileSystem.ROOT, probe);
                assertTrue(fs.statfs().freeBlocks() >= free - 1, what + ": blocks leaked by new work");
                FsSnapshot.assertSpaceAccounted(fs);
                fs.close();
                return k;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the directory goes in close()
            }
        }
    }

    @Override
    public void close() {
        if (device != null) {
            device.close();
        }
        TestDevice.deleteTree(dir);
    }
}
