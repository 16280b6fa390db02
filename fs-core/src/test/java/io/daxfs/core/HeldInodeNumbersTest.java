package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inode numbers held for someone who may still name them (the FUSE kernel front end): the
 * inode is free, its number is not handed out until released, and a release that overtakes
 * the free voids the hold.
 */
@FsCoreDevice(inodes = 64)
class HeldInodeNumbersTest {
    private TestDevice dev;
    private DaxFileSystem fs;
    private final Set<Long> named = new HashSet<>();

    @BeforeEach
    void setUp() {
        fs.keepFreedNumbersWhile(named::contains);
    }

    @Test
    void aHeldNumberIsFreeButNotReusedUntilReleased() {
        long free = fs.statfs().freeInodes();
        long f = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        named.add(f);
        fs.unlink(DaxFileSystem.ROOT, "f");
        assertEquals(free, fs.statfs().freeInodes(), "free as far as statfs is concerned");
        assertEquals(1, fs.inodeNumbersHeld());
        for (int i = 0; i < 40; i++) {
            assertNotEquals(f, fs.create(DaxFileSystem.ROOT, "g" + i, 0644, 0, 0));
        }
        named.remove(f);
        fs.releaseNumber(f);
        assertEquals(0, fs.inodeNumbersHeld());
        Set<Long> later = new HashSet<>();
        try {
            for (int i = 0; i < 64; i++) {
                later.add(fs.create(DaxFileSystem.ROOT, "h" + i, 0644, 0, 0));
            }
        } catch (FsException e) {
            assertEquals(Errno.ENOSPC, e.errno());
        }
        assertTrue(later.contains(f), "handed out again once released");
    }

    @Test
    void aReleaseThatComesBeforeTheFreeVoidsTheHold() {
        long f = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        named.add(f);
        fs.releaseNumber(f); // the FORGET overtook the unlink's free
        fs.unlink(DaxFileSystem.ROOT, "f");
        assertEquals(0, fs.inodeNumbersHeld(), "nothing left held, nothing leaked");
    }
}
