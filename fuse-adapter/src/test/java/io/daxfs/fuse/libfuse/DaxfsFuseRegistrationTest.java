package io.daxfs.fuse.libfuse;

import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.NotImplemented;
import ru.serce.jnrfuse.struct.FuseFileInfo;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Which callbacks jnr-fuse registers with libfuse: it skips every method that still carries
 * FuseStubFS's {@link NotImplemented}. Those choices are about request counts, so they are
 * pinned here rather than left to be undone by an innocent override.
 */
class DaxfsFuseRegistrationTest {
    @Test
    void flushIsNotRegisteredSoTheKernelStopsSendingIt() throws Exception {
        // Unregistered, libfuse answers the first FLUSH with ENOSYS and the kernel never sends
        // another: one synchronous round trip less on every close(2).
        assertNotNull(DaxfsFuse.class.getMethod("flush", String.class, FuseFileInfo.class)
                .getAnnotation(NotImplemented.class), "DaxfsFuse must not implement flush");
    }
}
