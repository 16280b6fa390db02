package io.daxfs.fuse.tools;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.TestDevice;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inspect.FreeSpaceHistogram;
import io.daxfs.core.inspect.Inspection;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The presentation side of the operator tools, in process: the map's model and picture, freesp's text, JSON, sizes. */
class ToolsTest {
    private TestDevice dev;

    @BeforeEach
    void setUp() {
        System.setProperty("java.awt.headless", "true");
        dev = TestDevice.create(64 * TestDevice.MIB);
        DaxFileSystem fs = dev.fs();
        long dir = fs.mkdir(DaxFileSystem.ROOT, "d", 0755, 0, 0);
        for (int i = 0; i < 5; i++) {
            long f = fs.create(dir, "f" + i, 0644, 0, 0);
            TestDevice.write(fs, f, 0, new byte[(i + 1) << 20]);
        }
        fs.unlink(dir, "f1");
    }

    @AfterEach
    void tearDown() {
        dev.close();
    }

    @Test
    void theMapAccountsForEveryBlockOnce() {
        Inspection in = Inspection.of(dev.region().readView());
        DeviceMap map = DeviceMap.build(in, 3);
        Geometry g = in.geometry();
        long all = 0;
        for (int k = 0; k < map.categories(); k++) {
            all += map.total(k);
        }
        assertEquals(g.totalBlocks(), all);
        assertEquals(in.blocks().dataFree(), map.total(DeviceMap.Category.FREE.ordinal()));
        assertEquals(0, map.total(DeviceMap.Category.UNOWNED.ordinal()));
        assertEquals(List.of("/d/f4", "/d/f3", "/d/f2"), map.files().stream().map(DeviceMap.FileShare::path).toList());
        assertEquals(5L << 20 >> 12, map.files().getFirst().blocks());
        assertEquals(5L << 20 >> 12, map.total(DeviceMap.FIRST_FILE));
        assertEquals(2, map.total(DeviceMap.Category.SUPERBLOCKS.ordinal()));
        assertEquals(g.journalBlocks(), map.total(DeviceMap.Category.JOURNAL.ordinal()));
        assertEquals(DeviceMap.COLUMNS, map.columns());
        assertEquals(1, map.blocksPerCell());
    }

    @Test
    void thePictureIsDrawnWithTheCategoryColours() throws Exception {
        Inspection in = Inspection.of(dev.region().readView());
        DeviceMap map = DeviceMap.build(in, 3);
        MapPicture picture = new MapPicture(map, "title", "subtitle");
        var size = picture.size();
        BufferedImage image = new BufferedImage(size.width, size.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        picture.paint(g);
        g.dispose();
        assertEquals(Color.BLACK, picture.cellColour(0), "block 0: a superblock");
        assertEquals(MapPicture.FREE, picture.cellColour(map.cells() - 1), "the end of the device is free");
        assertEquals(MapPicture.colour(DeviceMap.FIRST_FILE).getRGB(), picture.cellColour(cellOfFile(in, map, 0)).getRGB());
        Path png = Files.createTempFile("daxfs-map", ".png");
        Path svg = Files.createTempFile("daxfs-map", ".svg");
        try {
            picture.write(png);
            picture.write(svg);
            assertTrue(Files.size(png) > 1000);
            String text = Files.readString(svg);
            assertTrue(text.startsWith("<?xml"), text.substring(0, 40));
            assertTrue(text.contains("/d/f4"), "the legend names the largest file");
        } finally {
            Files.deleteIfExists(png);
            Files.deleteIfExists(svg);
        }
    }

    /** The cell of the middle of the first block run that map file {@code i} owns. */
    private static int cellOfFile(Inspection in, DeviceMap map, int i) {
        long ino = map.files().get(i).ino();
        long[] where = {-1};
        in.forEachOwnedExtent((owner, kind, start, length) -> {
            if (owner == ino && where[0] < 0) {
                where[0] = start + length / 2;
            }
        });
        assertNotEquals(-1, where[0]);
        return (int) (where[0] / map.blocksPerCell());
    }

    @Test
    void freespTextIsXfsDbsLayout() {
        FreeSpaceHistogram h = new FreeSpaceHistogram();
        h.add(100, 1);
        h.add(200, 3);
        h.add(1024, 1536);
        String text = new FreespReport(h).text();
        assertEquals("""
                   from      to extents  blocks    pct
                      1       1       1       1   0.06
                      2       3       1       3   0.19
                   1024    2047       1    1536  99.74
                total free extents 3
                total free blocks 1540
                average free extent size 513.333
                largest free extent 1536 blocks (6 MiB)
                2 MiB-aligned free space 3 chunks, 1536 blocks (6 MiB), 99.74% of free
                """, text);
        assertEquals("1e+06", FreespReport.cFormatG(1_000_000));
        assertEquals("395.5", FreespReport.cFormatG(395.5));
        assertEquals("15868", FreespReport.cFormatG(15868.0));
    }

    @Test
    void jsonEscapesAndNests() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"b\\c\n\u0001");
        m.put("n", 42L);
        m.put("d", 1.5);
        m.put("none", null);
        m.put("list", List.of(true, Map.of()));
        assertEquals("""
                {
                  "s": "a\\"b\\\\c\\n\\u0001",
                  "n": 42,
                  "d": 1.5000,
                  "none": null,
                  "list": [
                    true,
                    {}
                  ]
                }
                """, Json.write(m));
    }

    @Test
    void sizesAndCounts() {
        assertEquals("0 B", Sizes.bytes(0));
        assertEquals("4 KiB", Sizes.bytes(4096));
        assertEquals("57.2 MiB", Sizes.bytes(59_978_957));
        assertEquals("1 TiB", Sizes.bytes(1L << 40));
        assertEquals("1,234,567", Sizes.count(1234567));
        assertEquals("1 file", Sizes.counted(1, "file", "files"));
        assertEquals("0.0%", Sizes.percent(0, 0));
        assertEquals("50.0%", Sizes.percent(1, 2));
    }
}
