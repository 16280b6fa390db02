package io.daxfs.fuse.cli;

import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.inspect.Inspection;
import io.daxfs.fuse.tools.ReadOnlyDevice;
import io.daxfs.fuse.tools.Target;
import io.daxfs.fuse.tools.ToolException;

import java.nio.file.Path;

/**
 * What info, freesp and map start from: the TARGET|MOUNT argument resolved, its device open
 * read-only (never the write lock, never a store), and its superblock read.
 */
record Inspected(Target target, ReadOnlyDevice device, Inspection inspection) implements AutoCloseable {

    /** @throws ToolException with one line naming the path: missing, unreadable, not a daxfs, damaged */
    static Inspected open(Path arg) throws ToolException {
        Target target = Target.resolve(arg);
        ReadOnlyDevice device = ReadOnlyDevice.open(target);
        try {
            return new Inspected(target, device, Inspection.of(device.device().region().readView()));
        } catch (CorruptFileSystemException e) {
            device.close();
            throw new ToolException(target.device() + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        device.close();
    }
}
