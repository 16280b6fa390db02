package io.daxfs.fuse.tools;

import io.daxfs.core.base.FileMode;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inspect.Inspection;
import io.daxfs.core.inspect.OwnerKind;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What {@code daxfs map} draws: the device cut into cells of {@link #blocksPerCell()} blocks,
 * {@link #columns()} to a row, and for each cell how many of its blocks belong to which
 * category - a metadata region, free space, directories, block maps and attributes, one of the
 * largest files, the other files, or nothing at all (in use on the bitmap, owned by no inode).
 */
public final class DeviceMap {
    /** The fixed categories; the largest files follow them, {@link #FIRST_FILE} + i for file i. */
    public enum Category {
        SUPERBLOCKS("superblocks"),
        JOURNAL("journal"),
        INODE_BITMAP("inode bitmap"),
        BLOCK_BITMAP("block bitmap"),
        BITMAP_CHECKSUMS("bitmap checksums"),
        INODE_TABLE("inode table"),
        FREE("free"),
        DIRECTORIES("directories"),
        FILE_METADATA("block maps, xattrs"),
        OTHER_FILES("other files"),
        UNOWNED("in use, no owner");

        public final String label;

        Category(String label) {
            this.label = label;
        }
    }

    public static final int FIRST_FILE = Category.values().length;
    public static final int COLUMNS = 256;
    static final int MAX_ROWS = 256;

    /** One of the largest regular files: its own colour in the picture. */
    public record FileShare(long ino, String path, long blocks, long extents) {
    }

    private final Geometry g;
    private final long blocksPerCell;
    private final int cells;
    private final int categories;
    private final int[] counts;
    private final List<FileShare> files;

    private DeviceMap(Geometry g, long blocksPerCell, List<FileShare> files) {
        this.g = g;
        this.blocksPerCell = blocksPerCell;
        this.cells = (int) Geometry.divUp(g.totalBlocks(), blocksPerCell);
        this.categories = FIRST_FILE + files.size();
        this.counts = new int[cells * categories];
        this.files = files;
    }

    /** Reads {@code in} once: bitmap, every inode's extents, the paths of the {@code topFiles} largest files. */
    public static DeviceMap build(Inspection in, int topFiles) {
        Geometry g = in.geometry();
        long perCell = 1;
        while (Geometry.divUp(g.totalBlocks(), perCell) > (long) COLUMNS * MAX_ROWS) {
            perCell *= 2;
        }
        // the largest regular files, by the blocks their inodes record
        PriorityQueue<long[]> largest = new PriorityQueue<>(Comparator.comparingLong(a -> a[1]));
        in.forEachInode((ino, mode, size, blocks) -> {
            if (FileMode.isRegular(mode) && blocks > 0) {
                largest.add(new long[] {ino, blocks});
                if (largest.size() > topFiles) {
                    largest.poll();
                }
            }
        });
        List<long[]> chosen = new ArrayList<>(largest);
        chosen.sort(Comparator.comparingLong((long[] a) -> a[1]).reversed().thenComparingLong(a -> a[0]));
        Map<Long, String> paths = in.pathsOf(chosen.stream().map(a -> a[0]).collect(Collectors.toSet()));
        Map<Long, Integer> index = new HashMap<>();
        long[] extents = new long[chosen.size()];
        long[] owned = new long[chosen.size()];
        for (int i = 0; i < chosen.size(); i++) {
            index.put(chosen.get(i)[0], i);
        }
        List<FileShare> placeholder = new ArrayList<>();
        for (long[] c : chosen) {
            placeholder.add(new FileShare(c[0], "", c[1], 0));
        }
        DeviceMap m = new DeviceMap(g, perCell, placeholder);
        for (Inspection.Region r : in.regions()) {
            Category c = switch (r.name()) {
                case "superblocks" -> Category.SUPERBLOCKS;
                case "journal" -> Category.JOURNAL;
                case "inode bitmap" -> Category.INODE_BITMAP;
                case "block bitmap" -> Category.BLOCK_BITMAP;
                case "bitmap checksums" -> Category.BITMAP_CHECKSUMS;
                case "inode table" -> Category.INODE_TABLE;
                default -> null;
            };
            if (c != null) {
                m.add(c.ordinal(), r.start(), r.blocks());
            }
        }
        in.forEachFreeExtent((start, length) -> m.add(Category.FREE.ordinal(), start, length));
        in.forEachOwnedExtent((ino, kind, start, length) -> {
            Integer file = index.get(ino);
            int category = switch (kind) {
                case FILE_DATA -> file != null ? FIRST_FILE + file : Category.OTHER_FILES.ordinal();
                case SYMLINK -> Category.OTHER_FILES.ordinal();
                case DIRECTORY -> Category.DIRECTORIES.ordinal();
                case EXTENT_MAP, XATTR -> Category.FILE_METADATA.ordinal();
            };
            if (file != null && kind == OwnerKind.FILE_DATA) {
                extents[file]++;
                owned[file] += length;
            }
            m.add(category, start, length);
        });
        List<FileShare> named = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            long ino = chosen.get(i)[0];
            named.add(new FileShare(ino, paths.getOrDefault(ino, "(inode " + ino + ", no name)"), owned[i], extents[i]));
        }
        m.files.clear();
        m.files.addAll(named);
        m.fillUnowned();
        return m;
    }

    private void add(int category, long start, long length) {
        long end = start + length;
        for (long c = start / blocksPerCell; c * blocksPerCell < end && c < cells; c++) {
            long from = Math.max(start, c * blocksPerCell);
            long to = Math.min(end, (c + 1) * blocksPerCell);
            counts[(int) c * categories + category] += (int) (to - from);
        }
    }

    /** Blocks of the data area that nothing accounts for: in use on the bitmap, no inode owns them. */
    private void fillUnowned() {
        for (int c = 0; c < cells; c++) {
            long first = (long) c * blocksPerCell;
            long inCell = Math.min(g.totalBlocks(), first + blocksPerCell) - first;
            long counted = 0;
            for (int k = 0; k < categories; k++) {
                counted += counts[c * categories + k];
            }
            if (counted < inCell) {
                counts[c * categories + Category.UNOWNED.ordinal()] += (int) (inCell - counted);
            }
        }
    }

    public Geometry geometry() {
        return g;
    }

    public long blocksPerCell() {
        return blocksPerCell;
    }

    public int cells() {
        return cells;
    }

    public int columns() {
        return (int) Math.min(COLUMNS, cells);
    }

    public int rows() {
        return (int) Geometry.divUp(cells, columns());
    }

    public List<FileShare> files() {
        return List.copyOf(files);
    }

    /** Blocks of {@code cell} in {@code category} (a {@link Category} ordinal, or FIRST_FILE + i). */
    public int count(int cell, int category) {
        return counts[cell * categories + category];
    }

    public int categories() {
        return categories;
    }

    /** Blocks of the device in {@code category}. */
    public long total(int category) {
        long n = 0;
        for (int c = 0; c < cells; c++) {
            n += counts[c * categories + category];
        }
        return n;
    }

    /** The categories in use somewhere, fixed ones first. */
    public Set<Integer> present() {
        Set<Integer> out = new java.util.TreeSet<>();
        for (int k = 0; k < categories; k++) {
            if (total(k) > 0) {
                out.add(k);
            }
        }
        return out;
    }
}
