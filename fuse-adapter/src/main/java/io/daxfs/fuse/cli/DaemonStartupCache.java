package io.daxfs.fuse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's ahead-of-time cache (JDK 25 AOT cache, JEP 483/514): classes of the daemon's
 * start-up path, already loaded and linked, taken from one training mount. It cuts the daemon's
 * start (most of the mount time) by about a third; see docs/benchmarks.md.
 *
 * <p>The cache is {@value #FILE_NAME} next to daxfs.jar, written by {@code scripts/setup} (and
 * {@code scripts/bench}) through a training mount; see {@code scripts/lib/common.sh}
 * ({@code build_aot_cache}). The JVM refuses a cache whose jar changed, but says so on the
 * daemon's output; so the cache is used only while it is newer than the jar, and the JVM's own
 * AOT messages are silenced. A missing, stale or unreadable cache only means a slower start.
 */
final class DaemonStartupCache {
    static final String FILE_NAME = "daxfs.aot";

    private DaemonStartupCache() {
    }

    /** The JVM options that make a daemon use the cache for {@code classPath}, or none. */
    static List<String> jvmOptions(String classPath) {
        return find(classPath)
                .map(c -> List.of("-XX:AOTCache=" + c, "-Xlog:aot*=off", "-Xlog:cds*=off"))
                .orElse(List.of());
    }

    /** The cache beside the jar that is the whole class path, if it is newer than the jar. */
    static Optional<Path> find(String classPath) {
        if (classPath == null || classPath.isEmpty() || classPath.contains(java.io.File.pathSeparator)
                || !classPath.endsWith(".jar")) {
            return Optional.empty(); // a development class path (IDE, tests): nothing was trained for it
        }
        Path jar = Path.of(classPath).toAbsolutePath();
        Path cache = jar.resolveSibling(FILE_NAME);
        try {
            if (Files.isReadable(cache)
                    && Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(jar)) > 0) {
                return Optional.of(cache);
            }
        } catch (IOException e) {
            // unreadable or vanished: start without it
        }
        return Optional.empty();
    }

    /** True for the JVM options that choose or write an AOT cache (never passed on to the daemon). */
    static boolean isAotOption(String jvmOption) {
        return jvmOption.startsWith("-XX:AOTCache") || jvmOption.startsWith("-XX:AOTMode")
                || jvmOption.startsWith("-XX:AOTConfiguration") || jvmOption.startsWith("-XX:SharedArchiveFile")
                || jvmOption.startsWith("-XX:ArchiveClassesAtExit");
    }
}
