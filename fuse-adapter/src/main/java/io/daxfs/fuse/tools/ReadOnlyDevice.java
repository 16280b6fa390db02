package io.daxfs.fuse.tools;

import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;

/**
 * A device opened for the tools: mapped read-only, with the shared lock when nobody writes it
 * (so no mount or mkfs starts meanwhile), and without any lock when a daemon holds it - never
 * the exclusive lock, never a store.
 *
 * @param device the mapping
 * @param live   true when another process (a mounted daemon) holds the device for writing:
 *               what is read is a snapshot of a file system that is changing
 */
public record ReadOnlyDevice(OpenedDevice device, boolean live) implements AutoCloseable {

    /** Opens {@code target}'s device; the exception's message is one line naming the path. */
    public static ReadOnlyDevice open(Target target) throws ToolException {
        try {
            return new ReadOnlyDevice(DeviceOpener.open(target.device(), DeviceOptions.readOnlyOptions()), false);
        } catch (DeviceException e) {
            if (e.reason() != DeviceException.Reason.IN_USE) {
                throw new ToolException(e.getMessage());
            }
        }
        try {
            return new ReadOnlyDevice(DeviceOpener.open(target.device(),
                    DeviceOptions.builder().readOnly(true).lock(false).build()), true);
        } catch (DeviceException e) {
            throw new ToolException(e.getMessage());
        }
    }

    @Override
    public void close() {
        device.close();
    }
}
