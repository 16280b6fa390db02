package io.daxfs.lease;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The lease client's own system calls on a plain file (no mount needed). */
class NativeTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path tmp;

    /**
     * DaxLease asks for huge pages on each piece of a 2 MiB-congruent lease; that advice must
     * never fail the mapping (a plain file of a disk file system, a kernel without THP) and, where
     * the kernel has transparent huge pages, must reach the mapping (VmFlags "hg" in smaps).
     */
    @Test
    void hugePageAdviceOnAMappedPlainFileKeepsItReadableAndMarksTheMapping() throws Exception {
        Path f = tmp.resolve("plain");
        byte[] data = new byte[(int) (4 * MIB)];
        for (int i = 0; i < data.length; i += 4096) {
            data[i] = (byte) (i / 4096 + 1);
        }
        Files.write(f, data);
        int fd = Native.open(f.toString(), Native.O_RDONLY);
        long at = Native.mmap(0, 4 * MIB, Native.PROT_READ, Native.MAP_SHARED, fd, 0);
        try {
            int rc = Native.madvise(at, 4 * MIB, Native.MADV_HUGEPAGE);
            assertTrue(rc == 0 || rc == -1, "madvise returns its result, it does not throw: " + rc);
            MemorySegment s = MemorySegment.ofAddress(at).reinterpret(4 * MIB);
            for (int i = 0; i < data.length; i += 4096) {
                assertEquals(data[i], s.get(ValueLayout.JAVA_BYTE, i), "byte at " + i);
            }
            if (Files.isDirectory(Path.of("/sys/kernel/mm/transparent_hugepage"))) {
                assertEquals(0, rc, "a kernel with transparent huge pages takes the advice");
                assertTrue(vmFlags(at).contains("hg"), "the mapping is marked MADV_HUGEPAGE: " + vmFlags(at));
            }
            assertEquals(-1, Native.madvise(at + 1, 4096, Native.MADV_HUGEPAGE), "an unaligned address: EINVAL, no exception");
        } finally {
            Native.munmap(at, 4 * MIB);
            Native.close(fd);
        }
    }

    /** The VmFlags of the mapping that starts at {@code address}, from /proc/self/smaps. */
    static List<String> vmFlags(long address) throws IOException {
        String start = Long.toHexString(address) + "-";
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.startsWith(start);
            } else if (in && line.startsWith("VmFlags:")) {
                return List.of(line.substring("VmFlags:".length()).trim().split("\\s+"));
            }
        }
        assumeTrue(false, "no mapping at " + start + " in /proc/self/smaps");
        return List.of();
    }
}
