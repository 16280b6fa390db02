package io.daxfs.fuse.cli;

import io.daxfs.fuse.tools.InfoReport;
import io.daxfs.fuse.tools.Json;
import io.daxfs.fuse.tools.ToolException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Show a daxfs: format version, uuid, label, geometry, journal, inode and block usage, "
            + "persistence mode and mount state.",
            "Read-only: works on an unmounted TARGET and on a mounted one (give the device or the mount point); it never "
                + "takes the device's write lock and never replays the journal (a committed transaction still to be "
                + "applied is reported)."},
        footer = {"", "Exit status: 0 shown, 1 cannot read TARGET (missing, not a daxfs, damaged superblock) or damage "
            + "found (the report says what; run daxfs fsck), 2 wrong arguments."})
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TARGET|MOUNT", description = "A device, an image file, or the mount point of a daxfs.")
    Path target;

    @Option(names = "--json", description = "Print the report as JSON, for scripts.")
    boolean json;

    @Override
    public Integer call() {
        try (Inspected in = Inspected.open(target)) {
            InfoReport report = InfoReport.of(in.target(), in.device(), in.inspection());
            System.out.print(json ? Json.write(report.json()) : report.text());
            return report.clean() ? 0 : 1;
        } catch (ToolException e) {
            return DaxfsCommand.fail("info", e.getMessage());
        }
    }
}
