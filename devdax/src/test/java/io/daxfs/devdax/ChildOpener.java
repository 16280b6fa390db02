package io.daxfs.devdax;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Runs in a child JVM for the cross-process tests: opens an image the way a second daxfs
 * process would and reports on stdout.
 *
 * <p>Usage: {@code ChildOpener hold|try|dax PATH rw|ro}. Prints {@code OPENED <kind>} or
 * {@code ERROR <REASON> <message>}. {@code hold} keeps the image open (and locked) until its
 * standard input reaches end of file; {@code try} closes at once; {@code dax} maps the file
 * through the device path (2 MiB alignment) and prints a second line: the persistence mode and
 * the mapping description.
 */
public final class ChildOpener {
    private ChildOpener() {
    }

    public static void main(String[] args) throws IOException {
        boolean hold = args[0].equals("hold");
        DeviceOptions options = args[2].equals("ro") ? DeviceOptions.readOnlyOptions() : DeviceOptions.defaults();
        Path path = Path.of(args[1]);
        try (OpenedDevice device = args[0].equals("dax")
                ? new DeviceOpener(SysfsProbe.system()).openAsDaxDevice(path, options,
                        new SysfsProbe.Geometry(java.nio.file.Files.size(path), 2L << 20, path))
                : DeviceOpener.open(path, options)) {
            System.out.println("OPENED " + device.kind());
            if (args[0].equals("dax")) {
                device.region().putLong(0, 1);
                device.region().flush(0, 8);
                device.region().fence();
                System.out.println(device.persistenceMode() + " " + device.mappingDescription());
            }
            System.out.flush();
            if (hold) {
                while (System.in.read() >= 0) {
                    // wait for the parent to close our stdin
                }
            }
        } catch (DeviceException e) {
            System.out.println("ERROR " + e.reason() + " " + e.getMessage());
            System.out.flush();
            System.exit(2);
        }
    }
}
