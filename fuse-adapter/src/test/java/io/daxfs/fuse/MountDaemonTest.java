package io.daxfs.fuse;

import io.daxfs.fuse.kernel.KernelFrontEnd;
import io.daxfs.fuse.kernel.UringFrontEnd;
import io.daxfs.fuse.libfuse.LibfuseFrontEnd;
import io.daxfs.fuse.mount.FrontEnd;
import io.daxfs.fuse.options.MountOptions;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The mount option frontend= picks the front end, the kernel one by default. */
class MountDaemonTest {
    private static FrontEnd frontEnd(String... lists) {
        return MountDaemon.frontEnd(MountOptions.parse(List.of(lists)));
    }

    @Test
    void theKernelFrontEndIsTheDefault() {
        assertEquals("kernel", assertInstanceOf(KernelFrontEnd.class, frontEnd()).name());
        assertInstanceOf(KernelFrontEnd.class, frontEnd("frontend=kernel"));
    }

    @Test
    void frontendLibfuseChoosesTheLibfuseFrontEnd() {
        assertEquals("libfuse", assertInstanceOf(LibfuseFrontEnd.class, frontEnd("noacl,frontend=libfuse")).name());
        assertInstanceOf(KernelFrontEnd.class, frontEnd("frontend=libfuse", "frontend=kernel"), "the last one wins");
    }

    @Test
    void frontendUringChoosesTheIoUringFrontEnd() {
        assertEquals("uring", assertInstanceOf(UringFrontEnd.class, frontEnd("frontend=uring")).name());
        assertInstanceOf(UringFrontEnd.class, frontEnd("frontend=uring,enable_uring"));
    }

    @Test
    void enableUringGoesWithTheIoUringFrontEndOnly() {
        assertThrows(IllegalArgumentException.class, () -> frontEnd("enable_uring"));
        assertThrows(IllegalArgumentException.class, () -> frontEnd("frontend=libfuse,enable_uring"));
    }

    @Test
    void anyOtherFrontEndIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> frontEnd("frontend=fuse3"));
    }
}
