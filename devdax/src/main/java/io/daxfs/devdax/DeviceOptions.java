package io.daxfs.devdax;

/**
 * How {@link DeviceOpener#open} treats its target.
 *
 * @param readOnly    map read-only and take a shared lock (several read-only users may coexist,
 *                    none with a writer)
 * @param createSize  if positive and the target is a missing file whose directory exists,
 *                    create it as a sparse file of this many bytes; an existing file keeps its
 *                    size. Zero: never create. Must be a multiple of 4096 to be usable.
 * @param minimumSize reject smaller targets with {@link DeviceException.Reason#TOO_SMALL}
 *                    before anything is written
 * @param lock        take the lock (default); off only for tools that knowingly inspect an
 *                    image someone else has open
 * @param privateMapping with {@code readOnly}, on an image file: map it copy-on-write
 *                    (MAP_PRIVATE), so the region takes stores but they stay in this process and
 *                    never reach the file (a read-only mount that must replay its journal).
 *                    Refused on a device-DAX device, which cannot be mapped privately.
 */
public record DeviceOptions(boolean readOnly, long createSize, long minimumSize, boolean lock,
                            boolean privateMapping) {

    public DeviceOptions(boolean readOnly, long createSize, long minimumSize, boolean lock) {
        this(readOnly, createSize, minimumSize, lock, false);
    }

    public DeviceOptions {
        if (privateMapping && !readOnly) {
            throw new IllegalArgumentException("a private mapping is for read-only opens");
        }
        if (createSize < 0) {
            throw new IllegalArgumentException("createSize must not be negative: " + createSize);
        }
        if (minimumSize < 0) {
            throw new IllegalArgumentException("minimumSize must not be negative: " + minimumSize);
        }
        if (readOnly && createSize > 0) {
            throw new IllegalArgumentException("a read-only open cannot create the image");
        }
    }

    /** Read-write, no creation, no minimum, locked. */
    public static DeviceOptions defaults() {
        return new DeviceOptions(false, 0, 0, true);
    }

    /** Read-only with a shared lock. */
    public static DeviceOptions readOnlyOptions() {
        return new DeviceOptions(true, 0, 0, true);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().readOnly(readOnly).createSize(createSize).minimumSize(minimumSize).lock(lock)
                .privateMapping(privateMapping);
    }

    public static final class Builder {
        private boolean readOnly;
        private long createSize;
        private long minimumSize;
        private boolean lock = true;
        private boolean privateMapping;

        private Builder() {
        }

        public Builder privateMapping(boolean privateMapping) {
            this.privateMapping = privateMapping;
            return this;
        }

        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }

        public Builder createSize(long createSize) {
            this.createSize = createSize;
            return this;
        }

        public Builder minimumSize(long minimumSize) {
            this.minimumSize = minimumSize;
            return this;
        }

        public Builder lock(boolean lock) {
            this.lock = lock;
            return this;
        }

        public DeviceOptions build() {
            return new DeviceOptions(readOnly, createSize, minimumSize, lock, privateMapping);
        }
    }
}
