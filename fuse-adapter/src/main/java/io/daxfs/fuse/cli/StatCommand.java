package io.daxfs.fuse.cli;

import io.daxfs.lease.LeaseException;
import io.daxfs.lease.MountLeases;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code daxfs stat MOUNT}: what a mounted daxfs is doing right now, asked of the daemon through
 * ioctls on the mount's root directory (docs/leases.md). Today: the leases held. Each section
 * is one command of the protocol; more sections (live statistics) add commands, not formats.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = {"Show what a mounted daxfs is doing: the leases held (holder pid, file, range, age, "
                + "broken or not, busy bytes they keep).",
            "Needs the right to open the mount's device, as a lease does."})
final class StatCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNT", description = "the mount point of a daxfs")
    Path mount;

    @Override
    public Integer call() {
        return leases(System.out);
    }

    private int leases(PrintStream out) {
        MountLeases.Listing listing;
        try {
            listing = MountLeases.list(mount);
        } catch (LeaseException e) {
            if (e.errno() == 25) { // ENOTTY
                out.println("leases: not served by this mount (not daxfs, or -o frontend=libfuse)");
                return 0;
            }
            return DaxfsCommand.fail("stat", mount + ": " + e.getMessage());
        }
        out.printf("leases: %d, busy space they hold: %s%n", listing.leases().size(),
                human(listing.heldBusyBytes()));
        if (listing.leases().isEmpty()) {
            return 0;
        }
        out.printf("%6s %8s %10s %-5s %-28s %9s %-7s %12s  %s%n", "ID", "PID", "INODE", "MODE", "RANGE", "AGE", "STATE",
                "BUSY", "PATH");
        for (MountLeases.Held h : listing.leases()) {
            out.printf("%6d %8d %10d %-5s %-28s %9s %-7s %12s  %s%n", h.id(), h.pid(), h.ino(), h.write() ? "write" : "read",
                    "[" + h.offset() + ", " + (h.offset() + h.length()) + ")",
                    String.format(Locale.ROOT, "%.1fs", h.age().toNanos() / 1e9), h.broken() ? "broken" : "held",
                    human(h.busyBytes()), h.path().isEmpty() ? "?" : h.path());
        }
        return 0;
    }

    /** 0 B, 4.0 KiB, 1.5 GiB. */
    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
