package io.daxfs.fuse.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's JVM options are written in three places: MountCommand (`java -jar daxfs.jar
 * mount`), scripts/lib/detached-mount.sh (`scripts/daxfs mount`, which starts the daemon without
 * a JVM of its own) and the start-up cache's training run (scripts/lib/common.sh), which must
 * train the daemon's configuration. They must agree, and none may cap the JIT at C1:
 * served requests run their code cold, and C1's code made small-file creates and unlinks
 * 1.2-3.9x slower (docs/performance.md, "The daemon's compiler").
 */
class DaemonJvmOptionsTest {
    private static final Path SCRIPTS = Path.of(System.getProperty("user.dir")).resolveSibling("scripts").resolve("lib");

    /** What MountCommand gives every daemon whose user chose no heap; the heap itself is DaemonHeapTest's. */
    private static List<String> mountCommandOptions() {
        return MountCommand.DAEMON_JVM.stream().sorted().toList();
    }

    /** The -X options of the first line of FILE that contains MARKER. */
    private static List<String> scriptOptions(String file, String marker) throws Exception {
        String line = Files.readAllLines(SCRIPTS.resolve(file)).stream().filter(l -> l.contains(marker)).findFirst()
                .orElseThrow(() -> new AssertionError(file + " has no line with " + marker));
        return Arrays.stream(line.replaceAll("[()\\\\]", " ").trim().split("\\s+"))
                .map(t -> t.replace("\"", ""))
                .filter(t -> t.startsWith("-X") && !t.startsWith("-XX:AOT") && !t.startsWith("-Xlog") && !t.startsWith("-Xmx"))
                .sorted().toList();
    }

    @Test
    void theDaemonIsNotLimitedToC1() {
        for (String o : MountCommand.DAEMON_JVM) {
            assertFalse(o.startsWith("-XX:TieredStopAtLevel") || o.equals("-XX:-TieredCompilation")
                    || o.equals("-XX:-UseCompiler"), o);
        }
    }

    @Test
    void theScriptedMountStartsTheDaemonAsMountCommandDoes() throws Exception {
        assertEquals(mountCommandOptions(), scriptOptions("detached-mount.sh", "# MountCommand.DAEMON_JVM"));
        String line = Files.readAllLines(SCRIPTS.resolve("detached-mount.sh")).stream()
                .filter(l -> l.contains("# MountCommand.DAEMON_JVM")).findFirst().orElseThrow();
        assertTrue(line.contains("\"-Xmx${_dm_heap_mib}m\""), "the heap of _dm_default_heap (DaemonHeapTest): " + line);
    }

    @Test
    void theStartUpCacheIsTrainedWithTheDaemonsOptions() throws Exception {
        // The training mounts a 64 MiB image, whose heap is the minimum; the cache does not depend on -Xmx.
        List<String> training = scriptOptions("common.sh", "-Xms64m -Xmx" + MountCommand.MIN_HEAP_MIB + "m");
        assertTrue(training.contains("-Xms64m"), training.toString());
        assertEquals(mountCommandOptions(), training);
    }
}
