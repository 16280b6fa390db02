package io.daxfs.fuzz;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.CorruptFileSystemException;

import java.util.function.Supplier;

/**
 * The fuzz targets' invariant (docs/reliability.md, "Fuzzing"): a decoder given any bytes
 * returns, or throws the documented corruption exception - {@link CorruptFileSystemException},
 * or an {@link FsException} with errno EUCLEAN - and nothing else. Anything else propagates
 * and is a finding: Jazzer saves the input.
 */
final class Decoding {
    private Decoding() {
    }

    /** Runs {@code decoder}: its result, or null if it found the bytes damaged. */
    static <T> T decode(Supplier<T> decoder) {
        try {
            return decoder.get();
        } catch (FsException e) {
            if (e.errno() != Errno.EUCLEAN) {
                throw new AssertionError("a decoder threw " + e.errno() + " instead of EUCLEAN: " + e.getMessage(), e);
            }
            if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
                throw new AssertionError("a corruption message is not one line: [" + e.getMessage() + "]", e);
            }
            return null;
        }
    }

    /** {@link #decode(Supplier)} of a decoder with no result; true if it accepted the bytes. */
    static boolean check(Runnable decoder) {
        return decode(() -> {
            decoder.run();
            return Boolean.TRUE;
        }) != null;
    }
}
