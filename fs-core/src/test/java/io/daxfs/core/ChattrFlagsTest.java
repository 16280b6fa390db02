package io.daxfs.core;

import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.inode.ChattrFlags;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.inode.ChattrFlags.APPEND;
import static io.daxfs.core.inode.ChattrFlags.IMMUTABLE;
import static io.daxfs.core.inode.ChattrFlags.NOATIME;
import static io.daxfs.core.inode.ChattrFlags.NODUMP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * chattr flags: stored across a remount (and fsck accepts them: the device is checked after
 * each test), who may change them, and immutable and append-only enforced on every change
 * Linux refuses for them - data, size, names, attributes - while what Linux allows still works.
 */
@FsCoreDevice
class ChattrFlagsTest {
    private static final Timestamp T = new Timestamp(1_000_000_000L, 0);
    private TestDevice dev;
    private DaxFileSystem fs;
    private long file;
    private long dir;

    @BeforeEach
    void setUp() {
        dir = fs.mkdir(ROOT, "d", 0755, 0, 0);
        file = fs.create(dir, "f", 0644, 1000, 1000);
        write(file, 0, "hello");
        fs.setxattr(file, "user.x", new byte[] {1}, 0);
    }

    private int write(long ino, long offset, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return fs.write(ino, offset, MemorySegment.ofArray(b), 0, b.length);
    }

    private static void eperm(Executable e) {
        FsException x = assertThrows(FsException.class, e);
        assertEquals(Errno.EPERM, x.errno(), x.getMessage());
    }

    @Test
    void flagsAreStoredAcrossARemountAndChangeCtime() {
        assertEquals(0, fs.chattrFlags(file));
        fs.setTimes(file, T, T, false);
        fs.setChattrFlags(file, IMMUTABLE | NODUMP | NOATIME, 0);
        assertEquals(IMMUTABLE | NODUMP | NOATIME, fs.chattrFlags(file));
        assertTrue(fs.getattr(file).ctimeSec() > T.seconds(), "chattr changes ctime");
        fs = dev.remount();
        assertEquals(IMMUTABLE | NODUMP | NOATIME, fs.chattrFlags(file));
        fs.setChattrFlags(file, 0, 0);
        assertEquals(0, fs.chattrFlags(file));
    }

    @Test
    void onlyRootChangesImmutableAndAppendOnlyTheOwnerTheRest() {
        fs.setChattrFlags(file, NODUMP, 1000);
        assertEquals(NODUMP, fs.chattrFlags(file));
        eperm(() -> fs.setChattrFlags(file, NODUMP, 1001));
        eperm(() -> fs.setChattrFlags(file, IMMUTABLE, 1000));
        eperm(() -> fs.setChattrFlags(file, APPEND, 1000));
        fs.setChattrFlags(file, APPEND, 0);
        eperm(() -> fs.setChattrFlags(file, 0, 1000));
        assertEquals(APPEND, fs.chattrFlags(file));
        FsException x = assertThrows(FsException.class, () -> fs.setChattrFlags(file, 0x1, 0)); // 's'
        assertEquals(Errno.EOPNOTSUPP, x.errno());
    }

    @Test
    void anImmutableFileKeepsItsOtherFlagsUntilImmutableGoes() {
        fs.setChattrFlags(file, IMMUTABLE, 0);
        eperm(() -> fs.setChattrFlags(file, IMMUTABLE | NODUMP, 0));
        fs.setChattrFlags(file, NODUMP, 0);
        assertEquals(NODUMP, fs.chattrFlags(file));
    }

    @Test
    void anImmutableFileRefusesEveryChange() {
        fs.setChattrFlags(file, IMMUTABLE, 0);
        eperm(() -> write(file, 5, "x"));
        eperm(() -> write(file, 0, "x"));
        eperm(() -> fs.truncate(file, 0));
        eperm(() -> fs.punchHole(file, 0, 4096));
        eperm(() -> fs.zeroRange(file, 0, 4096, true));
        eperm(() -> fs.fallocate(file, 0, 8192, false));
        eperm(() -> fs.chmod(file, 0600));
        eperm(() -> fs.chown(file, 0, 0));
        eperm(() -> fs.setTimes(file, T, T, false));
        eperm(() -> fs.setTimes(file, Timestamp.now(), Timestamp.now(), true));
        eperm(() -> fs.setxattr(file, "user.y", new byte[] {2}, 0));
        eperm(() -> fs.removexattr(file, "user.x"));
        eperm(() -> fs.unlink(dir, "f"));
        eperm(() -> fs.rename(dir, "f", dir, "g"));
        eperm(() -> fs.link(file, dir, "g"));
        fs.create(dir, "o", 0644, 0, 0);
        eperm(() -> fs.rename(dir, "o", dir, "f")); // replacing it
        eperm(() -> fs.rename(dir, "o", dir, "f", DaxFileSystem.RENAME_EXCHANGE));
        byte[] back = new byte[5];
        fs.read(file, 0, MemorySegment.ofArray(back), 0, 5);
        assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), back);
        assertEquals(0644, fs.mode(file) & 07777);
        fs.setChattrFlags(file, 0, 0);
        assertEquals(1, write(file, 5, "!"));
        fs.unlink(dir, "f");
        fs.unlink(dir, "o");
    }

    @Test
    void anAppendOnlyFileIsWrittenOnlyAtItsEnd() {
        fs.setChattrFlags(file, APPEND, 0);
        assertEquals(1, write(file, 5, "!"));
        assertEquals(1, write(file, 10, "?")); // past the end: the end moves, nothing is overwritten
        eperm(() -> write(file, 0, "H"));
        eperm(() -> fs.truncate(file, 6));
        eperm(() -> fs.truncate(file, 100));
        eperm(() -> fs.punchHole(file, 0, 4096));
        eperm(() -> fs.zeroRange(file, 0, 4096, true));
        fs.fallocate(file, 0, 8192, true); // allocating changes no data: allowed, as on Linux
        eperm(() -> fs.chmod(file, 0600));
        eperm(() -> fs.chown(file, 0, 0));
        eperm(() -> fs.setTimes(file, T, T, false));
        fs.setTimes(file, Timestamp.now(), Timestamp.now(), true); // utimes(NULL) is allowed
        eperm(() -> fs.setxattr(file, "user.y", new byte[] {2}, 0));
        eperm(() -> fs.removexattr(file, "user.x"));
        eperm(() -> fs.unlink(dir, "f"));
        eperm(() -> fs.rename(dir, "f", dir, "g"));
        eperm(() -> fs.link(file, dir, "g"));
        assertEquals(11, fs.getattr(file).size());
    }

    @Test
    void anImmutableDirectoryGetsAndLosesNoNames() {
        long top = fs.create(ROOT, "top", 0644, 0, 0);
        fs.setChattrFlags(dir, IMMUTABLE, 0);
        eperm(() -> fs.create(dir, "new", 0644, 0, 0));
        eperm(() -> fs.mkdir(dir, "sub", 0755, 0, 0));
        eperm(() -> fs.symlink(dir, "l", "f", 0, 0));
        eperm(() -> fs.createUnnamed(dir, 0644, 0, 0));
        eperm(() -> fs.link(top, dir, "h"));
        eperm(() -> fs.rename(ROOT, "top", dir, "top"));
        eperm(() -> fs.unlink(dir, "f"));
        eperm(() -> fs.rename(dir, "f", ROOT, "f"));
        eperm(() -> fs.rmdir(ROOT, "d")); // an immutable directory cannot go either (it is not empty anyway)
        assertEquals(1, write(file, 5, "!")); // its files' data can change
        fs.setChattrFlags(dir, 0, 0);
        fs.unlink(dir, "f");
    }

    @Test
    void anAppendOnlyDirectoryGetsNamesButLosesNone() {
        fs.setChattrFlags(dir, APPEND, 0);
        fs.create(dir, "g", 0644, 0, 0);
        eperm(() -> fs.rename(ROOT, "d", ROOT, "d2")); // an append-only inode keeps its names
        eperm(() -> fs.unlink(dir, "g"));
        eperm(() -> fs.rename(dir, "g", dir, "h"));
        eperm(() -> fs.rename(dir, "g", ROOT, "g"));
        fs.create(ROOT, "top", 0644, 0, 0);
        fs.rename(ROOT, "top", dir, "top"); // moving a name in is creating one
        fs.create(ROOT, "e", 0644, 0, 0);
        eperm(() -> fs.rename(ROOT, "e", dir, "f")); // replacing a name removes one
        fs.setChattrFlags(dir, 0, 0);
        fs.unlink(dir, "g");
        fs.unlink(dir, "top");
        fs.unlink(dir, "f");
        fs.unlink(ROOT, "e");
    }

    @Test
    void noatimeFlagKeepsAtimeUnderStrictatime() {
        fs.atimePolicy(AtimePolicy.STRICT);
        fs.setTimes(file, T, null, false);
        fs.setChattrFlags(file, NOATIME, 0);
        fs.read(file, 0, MemorySegment.ofArray(new byte[5]), 0, 5);
        assertEquals(T.seconds(), fs.getattr(file).atimeSec());
        fs.setChattrFlags(file, 0, 0);
        fs.read(file, 0, MemorySegment.ofArray(new byte[5]), 0, 5);
        assertTrue(fs.getattr(file).atimeSec() > T.seconds());
    }

    @Test
    void openChecksFollowLinuxMayOpen() {
        ChattrFlags.checkOpen(IMMUTABLE, false, false, false);
        eperm(() -> ChattrFlags.checkOpen(IMMUTABLE, true, true, false));
        eperm(() -> ChattrFlags.checkOpen(IMMUTABLE, false, false, true));
        ChattrFlags.checkOpen(APPEND, true, true, false);
        ChattrFlags.checkOpen(APPEND, false, false, false);
        eperm(() -> ChattrFlags.checkOpen(APPEND, true, false, false));
        eperm(() -> ChattrFlags.checkOpen(APPEND, true, true, true));
        ChattrFlags.checkOpen(NODUMP, true, false, true);
    }
}
