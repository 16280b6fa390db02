package io.daxfs.fuse.libfuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.check.FsChecker;

import jnr.ffi.Runtime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.struct.FileStat;

import java.util.List;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libfuse 2's "hide" of an open file that is unlinked or renamed over: libfuse renames it to
 * {@code .fuse_hidden…}, keeps addressing it by that path, and unlinks that name at the last
 * close. The libfuse front end unlinks the file for real instead and keeps the hidden name as
 * an alias of its own ({@link UnlinkedAliases}); these tests call the front end's callbacks
 * directly, as libfuse would, on a file system of its own (no mount).
 */
class HiddenNamesTest {
    private static final int ENOENT = -2;
    private TestDevice dev;
    private DaxFileSystem fs;
    private DaxfsFuse fuse;

    @BeforeEach
    void setUp() {
        dev = TestDevice.create(32 * TestDevice.MIB);
        fs = dev.fs();
        fuse = new DaxfsFuse(fs);
    }

    @AfterEach
    void tearDown() {
        try {
            assertTrue(FsChecker.check(dev.region().readView()).clean());
        } finally {
            dev.close();
        }
    }

    private int getattr(String path) {
        return fuse.getattr(path, FileStat.of(jnr.ffi.Memory.allocate(Runtime.getSystemRuntime(), 256)));
    }

    @Test
    void theHideStepUnlinksAndLeavesOnlyAnAliasForThePath() {
        String hidden = ".fuse_hidden0000000a00000001";
        long dir = fs.mkdir(ROOT, "d", 0755, 0, 0);
        long ino = fs.create(dir, "f", 0644, 0, 0);
        fs.open(ino);

        assertEquals(0, fuse.rename("/d/f", "/d/" + hidden));
        assertEquals(List.of(".", ".."), fs.readdir(dir).stream().map(DirEntry::name).toList(),
                "the alias is not a directory entry");
        assertEquals(0, fs.getattr(ino).nlink(), "unlinked: st_nlink is 0, as on ext4");
        assertEquals(0, getattr("/d/" + hidden), "libfuse's hidden path still finds the file");
        assertEquals(0, fuse.chmod("/d/" + hidden, 0600)); // fchmod arrives by that path
        assertEquals(0600, fs.getattr(ino).mode() & 07777);
        fs.rmdir(ROOT, "d"); // the directory is empty on the media: removable, as on ext4
        assertEquals(0, getattr("/d/" + hidden), "found by its last component even with the directory gone");

        fs.release(ino); // the last close frees the file ...
        assertEquals(ENOENT, getattr("/d/" + hidden)); // ... and its alias
        fs.create(ROOT, "new", 0644, 0, 0); // may reuse the inode number
        assertEquals(ENOENT, getattr("/" + hidden), "never the new file");
        fs.unlink(ROOT, "new");
    }

    @Test
    void theFinalUnlinkOfTheHiddenNameFindsNothingLeftAfterTheRelease() {
        String hidden = ".fuse_hidden0000000b00000002";
        long ino = fs.create(ROOT, "f", 0644, 0, 0);
        fs.open(ino);
        assertEquals(0, fuse.rename("/f", "/" + hidden));
        fs.release(ino);
        // libfuse unlinks the hidden name after the release and ignores the answer: the file
        // and its alias went with the release.
        assertEquals(ENOENT, fuse.unlink("/" + hidden));
        assertEquals(List.of(".", ".."), fs.readdir(ROOT).stream().map(DirEntry::name).toList());
    }

    @Test
    void anUnlinkOfTheHiddenNameBeforeTheReleaseDropsOnlyTheAlias() {
        String hidden = ".fuse_hidden0000000e00000005";
        long ino = fs.create(ROOT, "f", 0644, 0, 0);
        fs.open(ino);
        assertEquals(0, fuse.rename("/f", "/" + hidden));
        assertEquals(0, fuse.unlink("/" + hidden));
        assertEquals(ENOENT, getattr("/" + hidden));
        assertEquals(0, fs.getattr(ino).nlink(), "still open: kept until the release");
        fs.release(ino);
    }

    /**
     * The race libfuse's flag_nopath opens: the last release reached daxfs while libfuse still
     * counted the file open, so libfuse hides it instead of unlinking it. Its own release may
     * already have run, and then it never deletes the hidden name: a real rename would leave
     * {@code .fuse_hidden…} in the directory and the link count of the file's other name at 2
     * (FuseOperationsTest.hardLinkSharesDataAndCountsLinks saw exactly that in CI).
     */
    @Test
    void aFileWhoseLastReleaseCameFirstIsUnlinkedAllTheSame() {
        String hidden = ".fuse_hidden0000000c00000003";
        long ino = fs.create(ROOT, "a", 0644, 0, 0);
        fs.link(ino, ROOT, "b");
        fs.open(ino);
        fs.release(ino); // reached daxfs; libfuse's own count not yet decremented

        assertEquals(0, fuse.rename("/a", "/" + hidden));
        assertEquals(List.of(".", "..", "b"), fs.readdir(ROOT).stream().map(DirEntry::name).toList(),
                "no hidden name left behind");
        assertEquals(1, fs.getattr(ino).nlink(), "the other name's link count");
        assertEquals(ENOENT, getattr("/" + hidden), "no alias: nothing holds the file open");
        assertEquals(ENOENT, fuse.unlink("/" + hidden), "libfuse's late delete (it ignores the answer)");
        fs.unlink(ROOT, "b");
    }

    @Test
    void aDirectoryIsRenamedNormally() {
        String hidden = ".fuse_hidden0000000f00000006";
        long dir = fs.mkdir(ROOT, "d", 0755, 0, 0);
        assertEquals(0, fuse.rename("/d", "/" + hidden));
        assertEquals(dir, fs.lookup(ROOT, hidden), "libfuse never hides a directory: a user's own rename");
        fs.rmdir(ROOT, hidden);
    }

    @Test
    void aCrashWithAHiddenFileOpenFreesItAtTheNextMount() {
        long ino = fs.create(ROOT, "f", 0644, 0, 0);
        fs.open(ino);
        assertEquals(0, fuse.rename("/f", "/.fuse_hidden0000000d00000004"));
        DaxFileSystem after = dev.crashRemount();
        assertEquals(List.of(".", ".."), after.readdir(ROOT).stream().map(DirEntry::name).toList());
        assertEquals(after.statfs().totalInodes() - 1, after.statfs().freeInodes(), "only the root is left");
    }
}
