package io.daxfs.fuse.tools;

import io.daxfs.core.format.Geometry;
import io.daxfs.core.inspect.FreeSpaceHistogram;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code daxfs freesp}: the free-extent histogram in xfs_db freesp's layout (from, to,
 * extents, blocks, pct; blocks of 4 KiB), its summary, and the part of the free space that
 * huge-page mappings can use: whole 2 MiB chunks on 2 MiB boundaries of the device.
 */
public final class FreespReport {
    private final FreeSpaceHistogram h;

    public FreespReport(FreeSpaceHistogram histogram) {
        this.h = histogram;
    }

    public String text() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%7s %7s %7s %7s %6s%n", "from", "to", "extents", "blocks", "pct"));
        for (FreeSpaceHistogram.Bin bin : h.bins()) {
            b.append(String.format(Locale.ROOT, "%7d %7d %7d %7d %6.2f%n", bin.from(), bin.to(), bin.extents(),
                    bin.blocks(), h.percent(bin.blocks())));
        }
        b.append("total free extents ").append(h.totalExtents()).append('\n');
        b.append("total free blocks ").append(h.totalBlocks()).append('\n');
        b.append("average free extent size ").append(h.totalExtents() == 0 ? "0"
                : cFormatG((double) h.totalBlocks() / h.totalExtents())).append('\n');
        b.append("largest free extent ").append(h.largestExtent()).append(" blocks (")
                .append(Sizes.bytes(h.largestExtent() * Geometry.BLOCK_SIZE)).append(")\n");
        b.append(String.format(Locale.ROOT, "2 MiB-aligned free space %d chunks, %d blocks (%s), %.2f%% of free%n",
                h.alignedChunks(), h.alignedBlocks(), Sizes.bytes(h.alignedBlocks() * Geometry.BLOCK_SIZE),
                h.percent(h.alignedBlocks())));
        return b.toString();
    }

    /** C's printf %g for the plain numbers met here: six significant digits, no trailing zeros. */
    static String cFormatG(double v) {
        if (v == 0 || Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4) {
            return String.format(Locale.ROOT, "%.5e", v).replaceAll("\\.?0+e", "e");
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
    }

    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("block_size", Geometry.BLOCK_SIZE);
        List<Object> bins = new ArrayList<>();
        for (FreeSpaceHistogram.Bin bin : h.bins()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("from", bin.from());
            x.put("to", bin.to());
            x.put("extents", bin.extents());
            x.put("blocks", bin.blocks());
            x.put("pct", h.percent(bin.blocks()));
            bins.add(x);
        }
        m.put("bins", bins);
        m.put("free_extents", h.totalExtents());
        m.put("free_blocks", h.totalBlocks());
        m.put("largest_extent_blocks", h.largestExtent());
        m.put("aligned_2mib_chunks", h.alignedChunks());
        m.put("aligned_2mib_blocks", h.alignedBlocks());
        m.put("aligned_2mib_pct", h.percent(h.alignedBlocks()));
        return m;
    }
}
