package io.daxfs.fuse.cli;

import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = "Check a daxfs without changing it. Exit status: 0 clean, 4 errors found, 8 could not check.")
final class FsckCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TARGET")
    Path target;

    @Override
    public Integer call() {
        try (OpenedDevice device = DeviceOpener.open(target, DeviceOptions.readOnlyOptions())) {
            FsckReport report = FsChecker.check(device.region().readView());
            (report.clean() ? System.out : System.err).print(report.render());
            return report.exitCode();
        } catch (DeviceException e) {
            String why = e.reason() == DeviceException.Reason.IN_USE
                    ? target + " is in use (mounted?); unmount it before checking"
                    : e.getMessage();
            System.err.println("daxfs fsck: cannot check: " + why);
            return FsckReport.COULD_NOT_CHECK;
        }
    }
}
