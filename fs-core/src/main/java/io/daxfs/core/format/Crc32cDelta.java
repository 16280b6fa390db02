package io.daxfs.core.format;

import java.util.zip.CRC32C;

/**
 * CRC32C arithmetic for updating a stored checksum when a few bytes of a long message change,
 * without reading the rest of the message.
 *
 * <p>Why it holds: a CRC is linear over GF(2). For two messages of the same length, {@code
 * crc(a) ^ crc(b)} does not depend on the initial value or the final xor, only on {@code a ^ b}:
 * it is the raw CRC register (started at 0, no final xor) of {@code a ^ b}. Leading zero bytes
 * leave a zero register unchanged, and each trailing zero byte multiplies the register by
 * x^8 modulo the polynomial. So when bytes {@code [p, p + n)} of a message of {@code N} bytes
 * change by {@code d} (old xor new):
 * <pre>crc(new) = crc(old) ^ (raw(d) * x^(8 * (N - p - n)) mod P)</pre>
 * The same identity is behind zlib's {@code crc32_combine}; the multiplication below is its
 * {@code multmodp}, for the CRC32C (Castagnoli) polynomial in reflected form.
 *
 * <p>Used by the journal's commits (format 2's per-unit checksums): a create or an unlink
 * changes a few bytes of a 4 KiB directory block and of a 4 KiB bitmap block, and recomputing
 * their CRCs in full (copying each block first) was most of a commit's time, under the
 * journal's commit lock.
 */
public final class Crc32cDelta {
    /** The CRC32C polynomial 0x1EDC6F41, bit-reflected. */
    private static final int POLY = 0x82F63B78;
    /** Longest tail this class shifts by, in bytes: a 4 KiB unit plus its 24-byte seed. */
    public static final int MAX_TAIL = 4096 + 24;
    /** x^(8k) mod P for k = 0..MAX_TAIL, reflected (x^0 is bit 31). */
    private static final int[] X8 = new int[MAX_TAIL + 1];
    /** CRC32C of k zero bytes, k = 0..MAX_TAIL. */
    private static final int[] ZEROS = new int[MAX_TAIL + 1];

    static {
        X8[0] = 1 << 31;
        for (int k = 1; k <= MAX_TAIL; k++) {
            X8[k] = multiply(X8[k - 1], 1 << 23); // 1 << 23 is x^8
        }
        for (int k = 0; k <= MAX_TAIL; k++) {
            // The register starts at all ones and ends inverted: zeros only shift the ones.
            ZEROS[k] = ~multiply(X8[k], -1);
        }
    }

    private Crc32cDelta() {
    }

    /**
     * The raw CRC register (started at 0, no final xor) of {@code bytes[from, from + length)}:
     * the CRC32C of the bytes xor that of as many zeros (the initial value and final xor
     * cancel), so the CPU's CRC32C instruction does the work ({@link CRC32C} is an intrinsic).
     */
    public static int raw(byte[] bytes, int from, int length) {
        if (length > MAX_TAIL) {
            throw new IllegalArgumentException(length + " bytes");
        }
        CRC32C c = new CRC32C();
        c.update(bytes, from, length);
        return (int) c.getValue() ^ ZEROS[length];
    }

    /** {@code register * x^(8 * bytes) mod P}: the register after {@code bytes} more zero bytes. */
    public static int shift(int register, int bytes) {
        if (bytes < 0 || bytes > MAX_TAIL) {
            throw new IllegalArgumentException("tail of " + bytes + " bytes");
        }
        return multiply(X8[bytes], register);
    }

    /**
     * a * b mod P, both reflected: zlib's multmodp without its branches (a commit shifts a few
     * registers, and the data-dependent branches of the bit loop mispredicted half the time).
     */
    private static int multiply(int a, int b) {
        int p = 0;
        for (int i = 31; i >= 0; i--) {
            p ^= b & -((a >>> i) & 1);
            b = (b >>> 1) ^ (POLY & -(b & 1));
        }
        return p;
    }
}
