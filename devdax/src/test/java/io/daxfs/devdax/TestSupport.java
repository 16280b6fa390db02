package io.daxfs.devdax;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Real-file helpers shared by the tests: no mocks anywhere. */
final class TestSupport {
    static final long MIB = 1L << 20;

    private TestSupport() {
    }

    /** Bytes the file system has allocated to the file (st_blocks * 512), via stat(1). */
    static long allocatedBytes(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "--format=%b", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "stat failed: " + out);
        return Long.parseLong(out) * 512;
    }

    /** A fresh directory on tmpfs, or null when this machine has no /dev/shm. */
    static Path shmDir() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (!Files.isDirectory(shm) || !Files.isWritable(shm)) {
            return null;
        }
        return Files.createTempDirectory(shm, "daxfs-devdax-test-");
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The command line of a child JVM running {@link ChildOpener} with this test's class path. */
    static List<String> childCommand(String classPath, String... args) {
        return childCommand(true, classPath, args);
    }

    /** As above; {@code exportUnsafe} false starts the child without access to jdk.internal.misc. */
    static List<String> childCommand(boolean exportUnsafe, String classPath, String... args) {
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED"));
        if (exportUnsafe) {
            cmd.add("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-cp", classPath, ChildOpener.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A running child and its first line of output. */
    record Child(Process process, BufferedReader out) implements AutoCloseable {
        String firstLine() throws Exception {
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                return line.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                fail("child JVM printed nothing within 60 s");
                return null;
            }
        }

        /** Closes the child's stdin (ends a "hold") and waits for it to exit. */
        int finish() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("child JVM did not exit");
            }
            return process.exitValue();
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    static Child startChild(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new Child(p, new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
    }
}
