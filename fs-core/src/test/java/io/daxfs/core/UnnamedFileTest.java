package io.daxfs.core;

import io.daxfs.core.base.Errno;

import org.junit.jupiter.api.Test;

import static io.daxfs.core.NamespaceTest.assertErrno;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** open(O_TMPFILE): files made without a name, then linked or dropped; and what a crash leaves. */
@FsCoreDevice
class UnnamedFileTest {
    private TestDevice dev;
    private DaxFileSystem fs;

    @Test
    void anUnnamedFileIsFreedByItsLastRelease() {
        long free = fs.statfs().freeBlocks();
        long ino = fs.createUnnamed(DaxFileSystem.ROOT, 0600, 0, 0);
        TestDevice.write(fs, ino, 0, new byte[1 << 20]);
        assertEquals(0, fs.getattr(ino).nlink());
        assertEquals(2, fs.readdir(DaxFileSystem.ROOT).size(), "no name anywhere");
        fs.release(ino);
        assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
        assertEquals(free, fs.statfs().freeBlocks());
    }

    @Test
    void linkGivesItAFirstNameThatOutlivesTheHandleAndACrash() {
        long ino = fs.createUnnamed(DaxFileSystem.ROOT, 0640, 7, 8);
        byte[] data = TestDevice.pattern(1, 0, 10_000);
        TestDevice.write(fs, ino, 0, data);
        fs.link(ino, DaxFileSystem.ROOT, "named");
        assertEquals(1, fs.getattr(ino).nlink());
        fs.release(ino);
        assertEquals(ino, fs.lookup(DaxFileSystem.ROOT, "named"));
        fs = dev.remount();
        long again = fs.lookup(DaxFileSystem.ROOT, "named");
        assertArrayEquals(data, TestDevice.readAll(fs, again));
        assertEquals(0100640, fs.getattr(again).mode());
    }

    @Test
    void aCrashBeforeTheLinkFreesItAtTheNextMount() {
        long free = fs.statfs().freeBlocks();
        long ino = fs.createUnnamed(DaxFileSystem.ROOT, 0600, 0, 0);
        TestDevice.write(fs, ino, 0, new byte[1 << 20]);
        fs = dev.remount(); // as if the daemon died with the file open
        assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
        assertEquals(free, fs.statfs().freeBlocks());
    }

    @Test
    void anUnlinkedFileIsNotLinkableButAnUnnamedOneIsOnce() {
        long f = fs.createOpen(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        fs.unlink(DaxFileSystem.ROOT, "f");
        assertErrno(Errno.ENOENT, () -> fs.link(f, DaxFileSystem.ROOT, "back"));
        fs.release(f);
        long t = fs.createUnnamed(DaxFileSystem.ROOT, 0600, 0, 0);
        fs.link(t, DaxFileSystem.ROOT, "a");
        fs.unlink(DaxFileSystem.ROOT, "a");
        assertErrno(Errno.ENOENT, () -> fs.link(t, DaxFileSystem.ROOT, "b"));
        assertFalse(fs.readdir(DaxFileSystem.ROOT).stream().anyMatch(e -> e.name().equals("b")));
        fs.release(t);
        assertTrue(fs.statfs().freeInodes() > 0);
    }
}
