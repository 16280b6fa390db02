package io.daxfs.fuse.cli;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's default heap follows the inode count the superblock states: a fixed 384 MiB
 * ran out listing a million files through the libfuse front end (MillionFilesMountTest).
 */
class DaemonHeapTest {
    @TempDir
    Path dir;

    private Path image(long size, long inodes) throws Exception {
        Path p = dir.resolve("img-" + inodes);
        try (OpenedDevice d = DeviceOpener.open(p, DeviceOptions.builder().createSize(size).build())) {
            DaxFileSystem.format(d.region(), new FormatOptions(inodes, "", 0, 0));
        }
        return p;
    }

    private static long mib(String xmx) {
        assertTrue(xmx.startsWith("-Xmx") && xmx.endsWith("m"), xmx);
        return Long.parseLong(xmx.substring(4, xmx.length() - 1));
    }

    @Test
    void aSmallFileSystemGetsTheMinimum() throws Exception {
        assertEquals(MountCommand.MIN_HEAP_MIB, mib(MountCommand.defaultHeap(image(64L << 20, 0))));
    }

    @Test
    void aMillionInodesGetMore() throws Exception {
        long heap = mib(MountCommand.defaultHeap(image(1L << 30, 1_001_024)));
        assertTrue(heap >= 128 + 1_001_024 * MountCommand.HEAP_BYTES_PER_INODE / (1 << 20), "-Xmx" + heap + "m");
    }

    @Test
    void somethingElseGetsTheMinimumAndTheDaemonSaysWhatIsWrong() throws Exception {
        Path junk = Files.write(dir.resolve("junk"), new byte[8192]);
        assertEquals(MountCommand.MIN_HEAP_MIB, mib(MountCommand.defaultHeap(junk)));
        assertEquals(MountCommand.MIN_HEAP_MIB, mib(MountCommand.defaultHeap(dir.resolve("missing"))));
    }

    /**
     * {@code scripts/daxfs mount} starts the daemon without a JVM of its own
     * (scripts/lib/detached-mount.sh), so it computes the heap in bash: it must give what
     * MountCommand gives. It once gave 384 MiB whatever the file system, and a mount of a
     * million files through it ran out of heap where {@code java -jar daxfs.jar mount} did not.
     */
    @Test
    void theScriptedMountGivesTheSameHeap() throws Exception {
        Path junk = Files.write(dir.resolve("junk"), new byte[8192]);
        for (Path target : new Path[] {image(64L << 20, 0), image(1L << 30, 1_001_024), junk, dir.resolve("missing")}) {
            assertEquals(mib(MountCommand.defaultHeap(target)), scriptHeap(target), target.toString());
        }
    }

    private static long scriptHeap(Path target) throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).resolveSibling("scripts").resolve("lib")
                .resolve("detached-mount.sh");
        Process p = new ProcessBuilder("bash", "-c", "set -euo pipefail; source \"$1\"; _dm_default_heap \"$2\"; "
                + "printf '%s' \"$_dm_heap_mib\"", "bash", script.toString(), target.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor(), out);
        return Long.parseLong(out);
    }
}
