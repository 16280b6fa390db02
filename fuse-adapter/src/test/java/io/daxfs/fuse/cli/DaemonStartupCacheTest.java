package io.daxfs.fuse.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonStartupCacheTest {
    @TempDir
    Path dir;

    private Path jarAndCache(Instant jarTime, Instant cacheTime) throws Exception {
        Path jar = Files.writeString(dir.resolve("daxfs.jar"), "jar");
        Path cache = Files.writeString(dir.resolve(DaemonStartupCache.FILE_NAME), "cache");
        Files.setLastModifiedTime(jar, FileTime.from(jarTime));
        Files.setLastModifiedTime(cache, FileTime.from(cacheTime));
        return jar;
    }

    @Test
    void aCacheNewerThanTheJarIsUsed() throws Exception {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Path jar = jarAndCache(t, t.plusSeconds(5));
        assertEquals(Optional.of(dir.resolve("daxfs.aot")), DaemonStartupCache.find(jar.toString()));
        List<String> opts = DaemonStartupCache.jvmOptions(jar.toString());
        assertEquals("-XX:AOTCache=" + dir.resolve("daxfs.aot"), opts.getFirst());
        assertTrue(opts.contains("-Xlog:aot*=off"), "the JVM's AOT messages must not reach the daemon's output");
    }

    @Test
    void aCacheOlderThanTheJarIsIgnored() throws Exception {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Path jar = jarAndCache(t.plusSeconds(5), t);
        assertEquals(Optional.empty(), DaemonStartupCache.find(jar.toString()));
        assertEquals(List.of(), DaemonStartupCache.jvmOptions(jar.toString()));
    }

    @Test
    void noCacheOrADevelopmentClassPathMeansNoOptions() throws Exception {
        Path jar = Files.writeString(dir.resolve("daxfs.jar"), "jar");
        assertEquals(Optional.empty(), DaemonStartupCache.find(jar.toString()));
        assertEquals(Optional.empty(), DaemonStartupCache.find(dir + "/classes:" + jar));
        assertEquals(Optional.empty(), DaemonStartupCache.find(dir.resolve("classes").toString()));
        assertEquals(Optional.empty(), DaemonStartupCache.find(null));
    }

    @Test
    void aotOptionsOfTheCallerAreNotPassedOn() {
        assertTrue(DaemonStartupCache.isAotOption("-XX:AOTCacheOutput=/tmp/x.aot"));
        assertTrue(DaemonStartupCache.isAotOption("-XX:AOTCache=/tmp/x.aot"));
        assertTrue(DaemonStartupCache.isAotOption("-XX:AOTMode=record"));
        assertTrue(DaemonStartupCache.isAotOption("-XX:SharedArchiveFile=/tmp/x.jsa"));
        assertFalse(DaemonStartupCache.isAotOption("-Xmx512m"));
        assertFalse(DaemonStartupCache.isAotOption("--enable-native-access=ALL-UNNAMED"));
    }
}
