package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.CrashImages;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.RecordingRegion;
import io.daxfs.devdax.RecordingRegion.Event;
import io.daxfs.devdax.RecordingRegion.Fence;
import io.daxfs.devdax.RecordingRegion.Fill;
import io.daxfs.devdax.RecordingRegion.Release;
import io.daxfs.devdax.RecordingRegion.Store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Records every store, flush and fence of a scripted workload and mounts every crash state
 * {@link CrashImages} derives from the log: each must mount, pass fsck, and show exactly the
 * state after some prefix of the workload's operations - every operation all or nothing.
 */
class CrashStateExplorationTest {
    private static final long SIZE = 16 * MIB;

    private Path dir;
    private RecordedWorkload<TreeMap<String, String>> workload;

    @BeforeEach
    void record() {
        dir = TestDevice.newTempDir();
        workload = RecordedWorkload.start(SIZE, pre -> {
            // State before recording: files to rename over and to unlink.
            write(pre, pre.create(ROOT, "old", 0644, 0, 0), 0, pattern(100, 0, 6000));
            write(pre, pre.create(ROOT, "other", 0600, 0, 0), 0, pattern(101, 0, 5000));
        }, FsSnapshot::of)
                .step("mkdir /d", f -> f.mkdir(ROOT, "d", 0755, 0, 0))
                .step("create /d/f", f -> f.create(f.resolve("/d"), "f", 0640, 0, 0))
                .step("write 10 KiB to /d/f", f -> write(f, f.resolve("/d/f"), 0, pattern(102, 0, 10 * 1024)))
                .step("append 100 bytes in place", f -> write(f, f.resolve("/d/f"), 10 * 1024, pattern(103, 0, 100)))
                .step("rename /d/f over /old", f -> f.rename(f.resolve("/d"), "f", ROOT, "old"))
                .step("unlink /other", f -> f.unlink(ROOT, "other"))
                .step("truncate /old to 3000", f -> f.truncate(f.resolve("/old"), 3000))
                .step("symlink /d/ln", f -> f.symlink(f.resolve("/d"), "ln", "../old", 0, 0))
                .step("link /old as /d/hard", f -> f.link(f.resolve("/old"), f.resolve("/d"), "hard"))
                .stop();
    }

    @AfterEach
    void tearDown() {
        workload.close();
        TestDevice.deleteTree(dir);
    }

    @Test
    void everyCrashImageMountsAndShowsAPrefixOfTheWorkload() {
        long seed = TestDevice.seed("CrashStateExplorationTest");
        assertTrue(workload.checkEveryCrashImage(3, seed) > 20, "the workload should cross many fences");
    }

    /**
     * Targeted partial epochs: for each epoch, only its stores to the journal (the commit
     * record without the home locations, or the reverse), only its stores to metadata (no
     * data blocks), or only its stores to data blocks. All of these are states the pmem model
     * allows, since nothing orders stores inside one epoch.
     */
    @Test
    void reorderedEpochsAreAllOrNothing() {
        int[] images = {0};
        byte[] last = forEachReorderedImage(workload.base(), workload.log(), workload.geometry(), (what, img) -> {
            workload.checkImage(img, what);
            images[0]++;
        });
        assertTrue(images[0] > 20, "only " + images[0] + " images");
        assertEquals(workload.operations(), workload.checkImage(last, "the whole log"));
    }

    /**
     * Calls {@code sink} with, for each epoch that writes, four images: the durable prefix plus
     * only the epoch's stores to the journal; plus all but those; plus only its stores below
     * the data area; plus only its stores to data blocks. Returns the whole log applied.
     */
    static byte[] forEachReorderedImage(byte[] base, List<Event> log, Geometry geometry,
                                        java.util.function.BiConsumer<String, byte[]> sink) {
        long journalLo = geometry.journalOffset();
        long journalHi = journalLo + geometry.journalBytes();
        long dataLo = geometry.dataStart() * Geometry.BLOCK_SIZE;
        long[][] subsets = {
                {journalLo, journalHi},
                {0, journalLo, journalHi, Long.MAX_VALUE},
                {0, dataLo},
                {dataLo, Long.MAX_VALUE},
        };
        String[] names = {"journal only", "all but the journal", "metadata only", "data only"};
        byte[] prefix = base.clone();
        int epoch = 0;
        int from = 0;
        for (int i = 0; i <= log.size(); i++) {
            if (i < log.size() && !(log.get(i) instanceof Fence)) {
                continue;
            }
            List<Event> epochEvents = log.subList(from, i);
            if (epochEvents.stream().anyMatch(e -> !(e instanceof RecordingRegion.Flush))) {
                for (int s = 0; s < subsets.length; s++) {
                    byte[] img = prefix.clone();
                    for (Event e : epochEvents) {
                        for (int r = 0; r < subsets[s].length; r += 2) {
                            applyClipped(img, e, subsets[s][r], subsets[s][r + 1]);
                        }
                    }
                    sink.accept("epoch " + epoch + " (events " + from + ".." + i + "), " + names[s], img);
                }
            }
            for (Event e : epochEvents) {
                applyClipped(prefix, e, 0, Long.MAX_VALUE);
            }
            from = i + 1;
            epoch++;
        }
        return prefix;
    }

    /**
     * A truncate down to the middle of a block leaves the old bytes past the new end in that
     * block (growth zeroes them later). An append into that block must never make the new
     * size durable before the new data: a crash would show the old bytes again.
     */
    @Test
    void appendIntoATruncatedBlockNeverShowsItsOldBytes() {
        Path img = dir.resolve("append.img");
        byte[] appendBase;
        List<Event> appendLog;
        Geometry g;
        try (OpenedDevice d = TestDevice.open(img, SIZE)) {
            DaxFileSystem.format(d.region(), FormatOptions.defaults());
            DaxFileSystem pre = DaxFileSystem.mount(d.region());
            long f = pre.create(ROOT, "f", 0644, 0, 0);
            byte[] old = new byte[8000];
            Arrays.fill(old, (byte) 0xAA);
            write(pre, f, 0, old);
            pre.truncate(f, 5000);
            pre.close();
            RecordingRegion rec = new RecordingRegion(d.region());
            appendBase = rec.snapshot();
            DaxFileSystem fs = DaxFileSystem.mount(rec);
            g = fs.superblock().geometry();
            byte[] fresh = new byte[100];
            Arrays.fill(fresh, (byte) 0x11);
            write(fs, f, 5000, fresh);
            fs.fsync(f);
            fs.close();
            appendLog = rec.events();
        }
        java.util.function.BiConsumer<String, byte[]> check = (what, image) -> {
            Path file = dir.resolve("append-crash.img");
            try {
                Files.write(file, image);
                try (OpenedDevice d = TestDevice.openExisting(file)) {
                    DaxFileSystem fs = DaxFileSystem.mount(d.region());
                    byte[] content = TestDevice.readAll(fs, fs.resolve("/f"));
                    assertTrue(content.length == 5000 || content.length == 5100, what + ": size " + content.length);
                    for (int i = 5000; i < content.length; i++) {
                        if (content[i] != 0x11) {
                            fail(what + ": byte " + i + " of the appended range reads "
                                    + String.format("0x%02x", content[i])
                                    + (content[i] == (byte) 0xAA ? " - the bytes cut off by the earlier truncate" : ""));
                        }
                    }
                    fs.close();
                }
                Files.delete(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        forEachReorderedImage(appendBase, appendLog, g, check);
        long seed = TestDevice.seed("appendIntoATruncatedBlockNeverShowsItsOldBytes");
        CrashImages.stream(appendBase, appendLog, 8, seed).forEach(c -> check.accept(c.describe(), c.image()));
    }

    /** Applies the part of {@code e} that lies in [lo, hi). */
    private static void applyClipped(byte[] image, Event e, long lo, long hi) {
        long off;
        long len;
        switch (e) {
            case Store s -> {
                off = s.offset();
                len = s.bytes().length;
            }
            case Fill f -> {
                off = f.offset();
                len = f.length();
            }
            case Release r -> {
                off = r.offset();
                len = r.length();
            }
            default -> {
                return;
            }
        }
        long s = Math.max(off, lo);
        long t = Math.min(off + len, hi);
        if (s >= t) {
            return;
        }
        switch (e) {
            case Store st -> System.arraycopy(st.bytes(), (int) (s - off), image, (int) s, (int) (t - s));
            case Fill f -> Arrays.fill(image, (int) s, (int) t, f.value());
            default -> Arrays.fill(image, (int) s, (int) t, (byte) 0);
        }
    }

}
