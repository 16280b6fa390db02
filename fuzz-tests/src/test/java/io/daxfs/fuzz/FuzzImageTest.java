package io.daxfs.fuzz;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.devdax.ScratchRegion;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fuzz targets' base image is sound (fixed UUID and all), and each structure is there. */
class FuzzImageTest {
    @Test
    void imageIsSound() {
        FuzzImage image = FuzzImage.get();
        FsckReport r = FsChecker.check(image.memory);
        assertTrue(r.clean(), r.render());
        assertEquals(1, r.notes().size(), "the orphan is noted: " + r.notes());
        assertTrue(image.metadataBlocks.size() >= 5, "directory, overflow and attribute blocks");
        ScratchRegion region = image.undoRegion();
        try {
            DaxFileSystem fs = DaxFileSystem.mount(region);
            assertEquals(202, fs.readdir(fs.resolve("/big")).size()); // with . and ..
            fs.close();
        } finally {
            region.rollback();
        }
        assertTrue(FsChecker.check(image.memory).clean(), "rolled back");
    }
}
