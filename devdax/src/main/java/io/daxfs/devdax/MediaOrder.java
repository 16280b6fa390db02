package io.daxfs.devdax;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The byte order of everything stored on a device: little endian, whatever the machine. Every
 * integer that devdax stores and fs-core reads or encodes goes through these layouts and
 * buffers, so an image written on one machine reads the same on any other (on x86 and arm64
 * they are the native order, and cost nothing). An architecture test keeps other layouts and
 * byte orders out of the code that touches device memory.
 */
public final class MediaOrder {
    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    public static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ORDER);
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ORDER);
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ORDER);

    private MediaOrder() {
    }

    /** A heap buffer of {@code size} bytes in media order (records to be written to the device). */
    public static ByteBuffer allocate(int size) {
        return ByteBuffer.allocate(size).order(ORDER);
    }

    /** {@code bytes} (read from or for the device) as a buffer in media order. */
    public static ByteBuffer wrap(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ORDER);
    }
}
