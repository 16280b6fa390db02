package io.daxfs.fuse.cli;

import io.daxfs.lease.DaxLease;
import io.daxfs.lease.LeaseException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code daxfs lease FILE}: shows where a file's bytes live on the device (through a lease,
 * docs/leases.md), or with {@code --hold} keeps a lease - mapped - until it is killed or its
 * standard input closes, for scripts and tests. Output, one item per line:
 * <pre>
 * device /dev/shm/pm.img (image file, map alignment 4096)
 * lease 7 read [0, 1048576) of /mnt/pm/f, 1 extents, 2 MiB-congruent
 *   file 0 device 6291456 length 1048576
 * holding                       (--hold: mapped and held from here on)
 * broken                        (--hold: a truncate, punch, unlink or rename over freed leased blocks)
 * </pre>
 */
@Command(name = "lease", mixinStandardHelpOptions = true,
        description = {"Show the device extents of a file of a daxfs mount (through a lease), or hold a lease.",
            "With --hold the range is mapped from the device and held until this process is killed or its "
                    + "standard input closes; 'holding' is printed once it is, 'broken' if a truncate, punch, "
                    + "unlink or rename over frees leased blocks meanwhile."})
final class LeaseCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "a regular file on a daxfs mount")
    Path file;

    @Option(names = "--write", description = "a write lease (the descriptor is opened read-write; allocated space only)")
    boolean write;

    @Option(names = "--offset", description = "start of the range in bytes (default 0)")
    long offset;

    @Option(names = "--length", description = "bytes (default 0: to the end of file)")
    long length;

    @Option(names = "--hold", description = "map the range and hold the lease until killed or stdin closes")
    boolean hold;

    @Override
    public Integer call() {
        DaxLease.Mode mode = write ? DaxLease.Mode.WRITE : DaxLease.Mode.READ;
        PrintStream out = System.out;
        try (DaxLease lease = hold ? DaxLease.take(file, mode, offset, length)
                : DaxLease.describe(file, mode, offset, length)) {
            print(out, lease);
            if (hold) {
                out.println("holding");
                out.flush();
                holdUntilStdinCloses(lease, out);
            }
            return 0;
        } catch (LeaseException e) {
            return DaxfsCommand.fail("lease", file + ": " + e.getMessage());
        }
    }

    static void print(PrintStream out, DaxLease lease) {
        var d = lease.device();
        out.printf("device %s (%s, map alignment %d)%n", d.path(), d.devdax() ? "device-DAX" : "image file", d.mapAlign());
        out.printf("lease %s %s [%d, %d) of %s, %d extents%s%n", ids(lease), lease.mode().name().toLowerCase(),
                lease.offset(), lease.offset() + lease.length(), lease.file(), lease.pieces().size(),
                lease.hugeAligned() ? ", 2 MiB-congruent" : "");
        for (DaxLease.Piece p : lease.pieces()) {
            out.printf("  file %d device %d length %d%n", p.fileOffset(), p.deviceOffset(), p.length());
        }
    }

    private static String ids(DaxLease lease) {
        StringBuilder b = new StringBuilder();
        for (long id : lease.ids()) {
            b.append(b.isEmpty() ? "" : ",").append(id);
        }
        return b.toString();
    }

    /** Holds until stdin reaches its end (or this process is killed); prints "broken" once if it breaks. */
    private static void holdUntilStdinCloses(DaxLease lease, PrintStream out) {
        Thread watcher = Thread.ofPlatform().daemon().name("lease-break").start(() -> {
            try {
                while (!lease.awaitBreak(Duration.ofHours(1))) {
                    // keep waiting
                }
                out.println("broken");
                out.flush();
            } catch (LeaseException | RuntimeException e) {
                // closed under us: done
            }
        });
        try {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            while (in.read(buf) >= 0) {
                // discard
            }
        } catch (IOException e) {
            // stdin gone: release
        }
        watcher.interrupt();
    }
}
