package io.daxfs.fuse.libfuse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGTERM to a JVM serving a mount must unmount it (through the JVM shutdown hook). */
class ShutdownHookTest {
    @TempDir
    Path tmp;

    @Test
    void sigtermUnmountsCleanly() throws Exception {
        Path mnt = Files.createDirectory(tmp.resolve("mnt")).toRealPath();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), MountMain.class.getName(), mnt.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            assertEquals("READY", out.readLine());
            assertTrue(Shell.isMounted(mnt));
            assertEquals("Hello World!\n", Shell.run(mnt, "cat hello").ok().stdout());

            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(20, TimeUnit.SECONDS), "child did not exit on SIGTERM");
            assertFalse(Shell.isMounted(mnt), "mount left behind");
            assertEquals(143, child.exitValue()); // 128 + SIGTERM: exited through the JVM's handler
        } finally {
            child.destroyForcibly();
            if (Shell.isMounted(mnt)) {
                Shell.run(tmp, "umount -l '" + mnt + "'");
            }
        }
    }
}
