package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import io.daxfs.devdax.DeviceException.Reason;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image lock, within this JVM and against a second process (a child JVM running
 * {@link ChildOpener}: fcntl locks are per process, so only a real second process proves it).
 */
class LockTest {
    @TempDir
    Path dir;

    private Path img;

    @BeforeEach
    void image() throws Exception {
        img = dir.resolve("lock.img");
        ImageFiles.createSparse(img, MIB);
    }

    private DeviceException inUse(DeviceOptions options) {
        DeviceException e = assertThrows(DeviceException.class, () -> DeviceOpener.open(img, options).close());
        assertEquals(Reason.IN_USE, e.reason());
        assertEquals(img + " is in use (mounted by another daxfs process?)", e.getMessage());
        return e;
    }

    private static String classPath() {
        return System.getProperty("java.class.path");
    }

    @Test
    void secondOpenInTheSameJvmIsInUse() throws Exception {
        try (OpenedDevice first = DeviceOpener.open(img, DeviceOptions.defaults())) {
            inUse(DeviceOptions.defaults());
            inUse(DeviceOptions.readOnlyOptions());
            first.region().putLong(0, 1); // the refused opens did not disturb the first
        }
        DeviceOpener.open(img, DeviceOptions.defaults()).close();
    }

    @Test
    void readersShareButExcludeWriters() throws Exception {
        try (OpenedDevice a = DeviceOpener.open(img, DeviceOptions.readOnlyOptions());
             OpenedDevice b = DeviceOpener.open(img, DeviceOptions.readOnlyOptions())) {
            inUse(DeviceOptions.defaults());
            assertTrue(a.readOnly() && b.readOnly());
        }
    }

    @Test
    void lockCanBeSkipped() throws Exception {
        try (OpenedDevice first = DeviceOpener.open(img, DeviceOptions.defaults());
             OpenedDevice inspector = DeviceOpener.open(img, DeviceOptions.builder().readOnly(true).lock(false).build())) {
            first.region().putLong(8, 77);
            assertEquals(77, inspector.region().readView().get(java.lang.foreign.ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void anotherProcessHoldingTheImageMakesItInUse() throws Exception {
        try (TestSupport.Child child = TestSupport.startChild(TestSupport.childCommand(classPath(), "hold",
                img.toString(), "rw"))) {
            assertEquals("OPENED REGULAR_FILE", child.firstLine());
            inUse(DeviceOptions.defaults());
            // Read-only while another process holds the exclusive lock: still in use.
            inUse(DeviceOptions.readOnlyOptions());
            assertEquals(0, child.finish());
        }
        DeviceOpener.open(img, DeviceOptions.defaults()).close();
    }

    @Test
    void anotherProcessCannotOpenWhatWeHold() throws Exception {
        try (OpenedDevice held = DeviceOpener.open(img, DeviceOptions.defaults())) {
            // A refused open in this JVM closes its own descriptor; with process-wide POSIX
            // locks that would have dropped our lock. The child proves it did not.
            inUse(DeviceOptions.defaults());
            for (String mode : new String[] {"rw", "ro"}) {
                try (TestSupport.Child child = TestSupport.startChild(TestSupport.childCommand(classPath(), "try",
                        img.toString(), mode))) {
                    assertEquals("ERROR IN_USE " + img + " is in use (mounted by another daxfs process?)",
                            child.firstLine());
                    assertEquals(2, child.finish());
                }
            }
            held.region().putLong(0, 5);
        }
        try (TestSupport.Child child = TestSupport.startChild(TestSupport.childCommand(classPath(), "try",
                img.toString(), "rw"))) {
            assertEquals("OPENED REGULAR_FILE", child.firstLine());
            assertEquals(0, child.finish());
        }
    }

    @Test
    void classicPosixLockFromThisJvmAlsoConflicts() throws Exception {
        // FileChannel locks (classic fcntl locks) and our OFD locks are the same kind of lock to
        // the kernel, so another tool using FileChannel.tryLock is kept out too.
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileLock lock = ch.tryLock()) {
            assertTrue(lock.isValid());
            inUse(DeviceOptions.defaults());
        }
    }
}
