package io.daxfs.devdax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    @TempDir
    Path dir;

    @Test
    void parsesSizes() {
        assertEquals(4096, ImageFiles.parseSize("4096"));
        assertEquals(100, ImageFiles.parseSize("100B"));
        assertEquals(512L << 10, ImageFiles.parseSize("512K"));
        assertEquals(512L << 10, ImageFiles.parseSize("512k"));
        assertEquals(64L << 20, ImageFiles.parseSize("64M"));
        assertEquals(64L << 20, ImageFiles.parseSize("64MiB"));
        assertEquals(1L << 30, ImageFiles.parseSize("1G"));
        assertEquals(2L << 30, ImageFiles.parseSize("2GiB"));
        assertEquals(2L << 30, ImageFiles.parseSize(" 2 gib "));
        assertEquals(3L << 40, ImageFiles.parseSize("3T"));
        assertEquals(0, ImageFiles.parseSize("0"));
    }

    @Test
    void refusesGarbageWithAClearMessage() {
        assertTrue(bad("").contains("size is empty"));
        assertTrue(bad("abc").contains("not a size: 'abc'"));
        assertTrue(bad("1.5G").contains("fractions are not accepted"));
        assertTrue(bad("-4K").contains("cannot be negative"));
        assertTrue(bad("64MB").contains("write 64M or 64MiB"), bad("64MB"));
        assertTrue(bad("10X").contains("unknown unit 'X'"));
        assertTrue(bad("99999999999999999999").contains("too large"));
        assertTrue(bad("16777216T").contains("too large"));
        assertTrue(bad("12 34").contains("not a size"));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.parseSize(null));
    }

    private static String bad(String text) {
        return assertThrows(IllegalArgumentException.class, () -> ImageFiles.parseSize(text)).getMessage();
    }

    @Test
    void formatsSizes() {
        assertEquals("4097 bytes", ImageFiles.formatSize(4097));
        assertEquals("1 byte", ImageFiles.formatSize(1));
        assertEquals("4096 bytes (4 KiB)", ImageFiles.formatSize(4096));
        assertEquals("16777216 bytes (16 MiB)", ImageFiles.formatSize(16L << 20));
        assertEquals("3221225472 bytes (3 GiB)", ImageFiles.formatSize(3L << 30));
    }

    @Test
    void createsSparseOwnerOnlyFilesAndNeverOverwrites() throws Exception {
        Path img = dir.resolve("s.img");
        ImageFiles.createSparse(img, 64L << 20);
        assertEquals(64L << 20, Files.size(img));
        assertTrue(TestSupport.allocatedBytes(img) < 1 << 20);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(img)));
        Files.writeString(img, "precious");
        assertThrows(FileAlreadyExistsException.class, () -> ImageFiles.createSparse(img, 4096));
        assertEquals("precious", Files.readString(img));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.createSparse(dir.resolve("t.img"), 4097));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.createSparse(dir.resolve("t.img"), 0));
        assertTrue(!Files.exists(dir.resolve("t.img")));
    }
}
