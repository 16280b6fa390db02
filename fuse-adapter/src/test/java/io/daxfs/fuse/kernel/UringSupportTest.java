package io.daxfs.fuse.kernel;

import io.daxfs.fuse.mount.FuseMountException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the io_uring front end says when the kernel cannot serve it, and when it switches it on (a stand-in parameter file). */
class UringSupportTest {
    @TempDir
    Path tmp;

    @Test
    void aKernelWithoutTheParameterIsTooOldAndSaysWhatItNeeds() {
        FuseMountException e = assertThrows(FuseMountException.class,
                () -> UringSupport.require(tmp.resolve("enable_uring"), true));
        assertTrue(e.getMessage().contains("Linux 6.14 or later built with CONFIG_FUSE_IO_URING"), e.getMessage());
        assertTrue(e.getMessage().contains("frontend=kernel"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line");
    }

    @Test
    void switchedOffItFailsUnlessAskedToSwitchItOn() throws Exception {
        Path p = Files.writeString(tmp.resolve("enable_uring"), "N\n");
        FuseMountException e = assertThrows(FuseMountException.class, () -> UringSupport.require(p, false));
        assertTrue(e.getMessage().contains("is N); add -o enable_uring"), e.getMessage());
        assertEquals("N\n", Files.readString(p), "not touched without -o enable_uring");
        assertDoesNotThrow(() -> UringSupport.require(p, true));
        assertEquals("Y", Files.readString(p));
        assertDoesNotThrow(() -> UringSupport.require(p, false), "on: nothing to ask");
    }

    @Test
    void cpuListsAreCounted() {
        assertEquals(1, UringSupport.countCpus("0"));
        assertEquals(2, UringSupport.countCpus("0-1"));
        assertEquals(6, UringSupport.countCpus("0-3,6,8"));
        assertEquals(UringSupport.queues() > 0, true);
    }
}
