package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.daxfs.devdax.DeviceException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PERMISSION_DENIED. Root bypasses file modes, so when the tests run as root the check runs in
 * a child JVM demoted to user nobody with setpriv(1), on copies of the class files that nobody
 * can read. Without root the check runs in this JVM.
 */
class PermissionTest {
    @TempDir
    Path dir;

    private static boolean runningAsRoot() throws Exception {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    }

    private static boolean setprivWorks() throws Exception {
        try {
            Process p = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "true")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Opens {@code path} as an unprivileged user and returns the child's report line. */
    private String openAsNobody(Path path, String mode) throws Exception {
        // The child needs devdax's classes and ChildOpener, readable by nobody.
        Path classes = dir.resolve("classes");
        if (!Files.exists(classes)) {
            copyClassesTo(classes);
        }
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        cmd.addAll(TestSupport.childCommand(classes.toString(), "try", path.toString(), mode));
        try (TestSupport.Child child = TestSupport.startChild(cmd)) {
            String line = child.firstLine();
            child.finish();
            return line;
        }
    }

    private static void copyClassesTo(Path classes) throws Exception {
        Files.createDirectory(classes);
        for (Class<?> c : List.of(DeviceOpener.class, ChildOpener.class)) {
            Path root = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (var walk = Files.walk(root)) {
                for (Path p : walk.toList()) {
                    Path target = classes.resolve(root.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        try (var walk = Files.walk(classes)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    @Test
    void unreadableImageIsPermissionDenied() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path img = dir.resolve("locked.img");
        ImageFiles.createSparse(img, MIB);
        Files.setPosixFilePermissions(img, PosixFilePermissions.fromString("---------"));
        if (!runningAsRoot()) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> DeviceOpener.open(img, DeviceOptions.defaults()).close());
            assertEquals(Reason.PERMISSION_DENIED, e.reason());
            assertEquals("permission denied: cannot open " + img + " for reading and writing", e.getMessage());
            return;
        }
        assumeTrue(setprivWorks(), "running as root without a working setpriv: cannot drop privileges to"
                + " user nobody, and root is never denied by file modes");
        assertEquals("ERROR PERMISSION_DENIED permission denied: cannot open " + img + " for reading and writing",
                openAsNobody(img, "rw"));
        assertEquals("ERROR PERMISSION_DENIED permission denied: cannot open " + img + " for reading",
                openAsNobody(img, "ro"));
    }

    @Test
    void unsearchableDirectoryIsPermissionDenied() throws Exception {
        assumeTrue(runningAsRoot() && setprivWorks(), "needs root and setpriv to create the situation for user nobody");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path secret = Files.createDirectory(dir.resolve("secret"));
        Path img = secret.resolve("x.img");
        ImageFiles.createSparse(img, MIB);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
        String line = openAsNobody(img, "rw");
        assertEquals("ERROR PERMISSION_DENIED permission denied: cannot look up " + img
                + " (no search permission on a directory on the way)", line);
    }
}
