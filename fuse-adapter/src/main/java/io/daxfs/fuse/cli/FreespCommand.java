package io.daxfs.fuse.cli;

import io.daxfs.fuse.tools.FreespReport;
import io.daxfs.fuse.tools.Json;
import io.daxfs.fuse.tools.ToolException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "freesp", mixinStandardHelpOptions = true,
        description = {"Show the free space of a daxfs as xfs_db's freesp does: free extents by size (from, to, "
            + "extents, blocks, pct; blocks of 4 KiB), and how much of it is 2 MiB-aligned (whole 2 MiB chunks on "
            + "2 MiB boundaries: what huge-page mappings can use).",
            "Read-only, like info. On a mounted daxfs the block bitmap is read as it is: blocks the daemon still "
                + "holds busy (freed, not yet reusable) count as free."},
        footer = {"", "Exit status: 0 shown, 1 cannot read TARGET, 2 wrong arguments."})
final class FreespCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TARGET|MOUNT", description = "A device, an image file, or the mount point of a daxfs.")
    Path target;

    @Option(names = "--json", description = "Print the histogram as JSON, for scripts.")
    boolean json;

    @Override
    public Integer call() {
        try (Inspected in = Inspected.open(target)) {
            FreespReport report = new FreespReport(in.inspection().freeSpace());
            System.out.print(json ? Json.write(report.json()) : report.text());
            return 0;
        } catch (ToolException e) {
            return DaxfsCommand.fail("freesp", e.getMessage());
        }
    }
}
