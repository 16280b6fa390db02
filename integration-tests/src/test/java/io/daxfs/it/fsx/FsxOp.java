package io.daxfs.it.fsx;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One operation of an fsx run. Its text form, {@code TYPE OFFSET LENGTH SEED} (for example
 * {@code write 70001 513 -4411}), is one line of a replayable op log and {@link #parse} reads
 * it back. {@code seed} makes the data of writes; for truncate, {@code offset} is the new size.
 *
 * <p>The mmap operations are normalized against the size at the time they run (see
 * {@link #mmapRange}): a mapping can only touch bytes before the end of file, and a replay of
 * a shrunk log can reach them with a different size than the original run had.
 */
record FsxOp(Type type, long offset, long length, long seed) {
    enum Type {
        READ, WRITE, MMAP_READ, MMAP_WRITE, TRUNCATE, FALLOCATE, FALLOCATE_KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE,
        ZERO_RANGE_KEEP_SIZE, FSYNC, REOPEN,
        /** A full-file compare (pread of everything, and the size) against the model. */
        CHECK;

        String word() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Type of(String word) {
            return valueOf(word.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    FsxOp {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length: " + offset + " " + length);
        }
    }

    /** The bytes a write of {@code len} with {@code seed} stores (the same in every process). */
    static byte[] data(long seed, int len) {
        byte[] b = new byte[len];
        SplittableRandom r = new SplittableRandom(seed);
        int i = 0;
        while (i + 8 <= len) {
            long v = r.nextLong();
            for (int k = 0; k < 8; k++) {
                b[i++] = (byte) (v >>> (8 * k));
            }
        }
        long v = r.nextLong();
        while (i < len) {
            b[i++] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    /**
     * The range [start, start+len) an mmap op touches in a file of {@code size} bytes, or null
     * when there is none (an empty file): the offset wraps into the file, the length is cut at
     * the end of file.
     */
    long[] mmapRange(long size) {
        if (size <= 0) {
            return null;
        }
        long start = offset < size ? offset : offset % size;
        long len = Math.max(1, Math.min(length, size - start));
        return new long[] {start, len};
    }

    /** The replayable line. */
    @Override
    public String toString() {
        return type.word() + " " + offset + " " + length + " " + seed;
    }

    /** Reads a line made by {@link #toString}. */
    static FsxOp parse(String line) {
        String[] f = line.strip().split("\\s+");
        if (f.length != 4) {
            throw new IllegalArgumentException("not an fsx op (TYPE OFFSET LENGTH SEED): " + line);
        }
        return new FsxOp(Type.of(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]));
    }
}
