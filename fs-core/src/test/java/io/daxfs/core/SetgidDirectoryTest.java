package io.daxfs.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** New entries of a setgid directory take its group; new subdirectories keep the bit. */
@FsCoreDevice(after = FsCoreDevice.Check.NONE)
class SetgidDirectoryTest {
    private TestDevice dev;
    private DaxFileSystem fs;

    @Test
    void setgidDirectoryPassesGroupAndBit() {
        long shared = fs.mkdir(DaxFileSystem.ROOT, "shared", 02775, 0, 500);
        assertEquals(02775, fs.getattr(shared).mode() & 07777);
        long file = fs.create(shared, "f", 0644, 1000, 1000);
        assertEquals(500, fs.getattr(file).gid(), "a file takes the directory's group");
        assertEquals(0644, fs.getattr(file).mode() & 07777, "a file does not get the setgid bit");
        long sub = fs.mkdir(shared, "sub", 0755, 1000, 1000);
        assertEquals(500, fs.getattr(sub).gid());
        assertEquals(02755, fs.getattr(sub).mode() & 07777, "a subdirectory keeps the setgid bit");
        long plain = fs.mkdir(DaxFileSystem.ROOT, "plain", 0755, 0, 0);
        long other = fs.create(plain, "g", 0644, 1000, 1000);
        assertEquals(1000, fs.getattr(other).gid(), "without setgid the creator's group is used");
        fs = dev.remount();
        assertEquals(500, fs.getattr(fs.resolve("/shared/sub")).gid());
    }
}
