package io.daxfs.fuse;

import io.daxfs.fuse.kernel.KernelFrontEnd;
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
    void anyOtherFrontEndIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> frontEnd("frontend=fuse3"));
    }
}
