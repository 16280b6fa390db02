package io.daxfs.fuse.cli;

import io.daxfs.fuse.tools.Json;
import io.daxfs.fuse.tools.StatReport;
import io.daxfs.fuse.tools.StatWatch;
import io.daxfs.lease.LeaseException;
import io.daxfs.lease.MountLeases;
import io.daxfs.lease.MountStats;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.concurrent.Callable;

/**
 * {@code daxfs stat MOUNT}: what a mounted daxfs is doing, asked of the daemon through ioctls on
 * the mount (docs/stats.md): the STATS command (requests and latency by opcode, journal commits,
 * contention, busy space by reason, free space), and LIST for the leases held. {@code --watch N}
 * prints a line per interval, as vmstat does.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = {"Show what a mounted daxfs is doing: requests and their latency by opcode, bytes read and "
                + "written, journal commits, range-lock waits and invalidation retries, busy space by reason "
                + "(durability, read, lease), free space, open files, and the leases held.",
            "The statistics are the running daemon's, since the mount; anyone who can open the mount point may ask. "
                + "The lease list needs the right to open the mount's device, as a lease does.",
            "With --watch N: one line every N seconds (the first since the mount), rates and p99 latencies of each "
                + "interval."},
        footer = {"", "Exit status: 0 shown, 1 not a daxfs mount (or its daemon does not answer: frontend=libfuse), "
            + "2 wrong arguments."})
final class StatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MOUNT", description = "the mount point of a daxfs (or any file or directory in it)")
    Path mount;

    @Option(names = "--json", description = "Print the figures as JSON, for scripts (with --watch: one document per line).")
    boolean json;

    @Option(names = "--watch", paramLabel = "N", description = "Print a line every N seconds until interrupted (or --count).")
    Integer watch;

    @Option(names = "--count", paramLabel = "K", description = "With --watch: stop after K lines.")
    Integer count;

    @Override
    public Integer call() throws InterruptedException {
        if (watch != null && watch < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--watch must be at least 1 second, not " + watch);
        }
        if (count != null && (count < 1 || watch == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    watch == null ? "--count needs --watch" : "--count must be at least 1, not " + count);
        }
        if (!Files.exists(mount)) {
            return DaxfsCommand.fail("stat", mount + ": no such file or directory");
        }
        PrintStream out = System.out;
        StatWatch lines = new StatWatch();
        for (int i = 0; ; i++) {
            MountStats.Snapshot s;
            try {
                s = MountStats.read(mount);
            } catch (LeaseException e) {
                return DaxfsCommand.fail("stat", mount + ": " + (e.errno() == 25
                        ? "not a daxfs mount, or one whose front end serves no statistics (frontend=libfuse)"
                        : e.getMessage()));
            }
            if (watch == null) {
                StatReport report = report(s);
                out.print(json ? Json.write(report.json()) : report.text());
                return 0;
            }
            if (json) {
                out.print(Json.line(report(s).json()));
            } else {
                if (i % 20 == 0) {
                    out.print(StatWatch.header());
                }
                out.print(lines.line(s, LocalTime.now()));
            }
            out.flush();
            if (count != null && i + 1 >= count) {
                return 0;
            }
            Thread.sleep(watch * 1000L);
        }
    }

    /** The reading with the mount's leases, or a note why they are not shown. */
    private StatReport report(MountStats.Snapshot s) {
        try {
            return StatReport.of(mount, s, MountLeases.list(mount), null);
        } catch (LeaseException e) {
            String why = switch (e.errno()) {
                case 13 -> "not shown (listing them needs the right to open the mount's device)";
                case 25 -> "not served by this mount (its daemon serves statistics but no leases)";
                case 22 -> "listed on the mount point only (give the mount point, not a path inside it)";
                default -> "not shown (" + e.getMessage() + ")";
            };
            return StatReport.of(mount, s, null, why);
        }
    }
}
