package io.daxfs.core;

import java.util.Arrays;

/**
 * A byte array as a map key by its content rather than its identity: {@link CrashExplorer}'s
 * canonical copies and {@link RecordedWorkload}'s content pool share equal contents through it.
 * The array must not change while it is a key.
 */
record ByteContent(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
        return o instanceof ByteContent c && Arrays.equals(c.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
