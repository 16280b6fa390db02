package io.daxfs.it;

import io.daxfs.lease.DaxLease;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The configuration leases are made for (docs/leases.md, "Page size"): an image on a tmpfs
 * mounted huge=within_size, a file allocated 2 MiB-congruent, and a lease mapping it with 2 MiB
 * pages - every byte of the mapping PMD-mapped (ShmemPmdMapped in /proc/self/smaps), which
 * needs the client's address range aligned congruent to the device offsets.
 */
class LeaseHugePageTest {
    private static final int MIB = 1 << 20;

    @Test
    void aCongruentLeaseOnAnImageOnAHugeTmpfsIsMappedWith2MiBPages() throws IOException {
        assumeTrue(DaxfsMount.kernelFrontend(), "leases are served by the kernel and io_uring front ends");
        Path thp = Path.of("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
        assumeTrue(Files.exists(thp) && !Files.readString(thp).contains("[deny]"), "no huge tmpfs on this kernel");
        try (DaxfsMount m = DaxfsMount.empty("huge=within_size")) {
            m.mkfs("64M");
            m.mount();
            Path f = m.path("big");
            shOk("fallocate -l 8M " + q(f)); // one allocation past 2 MiB: 2 MiB-congruent
            Files.write(f, Daxfs.random(21, 8 * MIB), StandardOpenOption.WRITE);
            try (DaxLease lease = DaxLease.take(f, DaxLease.Mode.READ, 0, 0)) {
                assertTrue(lease.hugeAligned(), lease.toString());
                MemorySegment s = lease.segment();
                long sum = 0;
                for (long at = 0; at < s.byteSize(); at += 4096) {
                    sum += s.get(ValueLayout.JAVA_BYTE, at); // fault every page in
                }
                assertEquals(Daxfs.random(21, 8 * MIB)[5 * MIB], s.get(ValueLayout.JAVA_BYTE, 5 * MIB));
                long[] kib = residentAndPmdKib(s.address(), s.byteSize());
                assumeTrue(hugePagesKib() > 0, "the kernel gave the huge tmpfs no 2 MiB pages");
                assertEquals(8 * 1024, kib[0], "all 8 MiB resident (" + sum + ")");
                assertEquals(8 * 1024, kib[1], "all of it mapped with 2 MiB pages: " + kib[1] + " KiB");
            }
        }
    }

    /** {Rss, ShmemPmdMapped} in KiB of this process's mappings overlapping [address, address + length). */
    private static long[] residentAndPmdKib(long address, long length) throws IOException {
        long[] kib = new long[2];
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                in = from < address + length && to > address;
            } else if (in && line.startsWith("Rss:")) {
                kib[0] += Long.parseLong(line.replaceAll("[^0-9]", ""));
            } else if (in && line.startsWith("ShmemPmdMapped:")) {
                kib[1] += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kib;
    }

    private static long hugePagesKib() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("ShmemHugePages:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(0);
    }
}
