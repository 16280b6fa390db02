package io.daxfs.lease;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What backs a range of this process's address space, from /proc/self/smaps: how much of it is
 * resident and how much of that is mapped with 2 MiB pages (PMD mappings: "ShmemPmdMapped" for
 * tmpfs and shared memory, "FilePmdMapped" for other files). A device-DAX mapping counts its
 * 2 MiB mappings in neither (they are not page-cache pages), so there it tells nothing.
 */
final class Smaps {
    private Smaps() {
    }

    /** Kibibytes of a range: resident, and mapped with 2 MiB pages; -1 where smaps is unreadable. */
    record Usage(long residentKib, long pmdMappedKib) {
    }

    /** Sums the mappings that overlap [address, address + length). */
    static Usage usage(long address, long length) {
        long end = address + length;
        long resident = 0;
        long pmd = 0;
        boolean in = false;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    long from = Long.parseUnsignedLong(line.substring(0, dash), 16);
                    long to = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                    in = from < end && to > address;
                } else if (in && line.startsWith("Rss:")) {
                    resident += kib(line);
                } else if (in && (line.startsWith("ShmemPmdMapped:") || line.startsWith("FilePmdMapped:"))) {
                    pmd += kib(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            return new Usage(-1, -1);
        }
        return new Usage(resident, pmd);
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
}
