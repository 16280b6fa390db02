package io.daxfs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.parallel.Isolated;

import java.util.List;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Enabling the io_uring front end, in the run of the suite that uses it: with the kernel's
 * switch off the mount fails with one line saying so and what to do, and {@code -o enable_uring}
 * switches it on. The switch is global, so this class runs alone ({@link Isolated}: no other
 * test mounts meanwhile) and puts the switch back as it found it.
 */
@Isolated
@EnabledIfSystemProperty(named = "daxfs.it.frontend", matches = "uring")
@MountedDaxfs(scope = MountedDaxfs.Scope.TEST)
class UringEnablingTest {
    private DaxfsMount m;

    @Test
    void theMountSaysInOneLineThatTheKernelSwitchIsOffAndEnableUringTurnsItOn() {
        m.umount();
        String before = UringParameter.value();
        UringParameter.set("N");
        try {
            Daxfs.Result r = m.tryMount(m.image, m.mnt);
            r.expectFailure();
            List<String> lines = r.err().strip().lines().toList();
            assertEquals(1, lines.size(), r.toString());
            assertTrue(lines.get(0).startsWith("daxfs mount: frontend=uring: FUSE over io_uring is off in this kernel"),
                    r.toString());
            assertTrue(lines.get(0).contains("-o enable_uring"), r.toString());
            assertTrue(DaxfsMount.mountType(m.mnt).isEmpty(), "nothing mounted");
            assertEquals("N", UringParameter.value(), "left alone without enable_uring");

            m.mount("enable_uring", "debug"); // debug: the ring's totals at unmount are a DEBUG line
            assertEquals("Y", UringParameter.value(), "switched on by -o enable_uring");
            assertTrue(m.logText().contains("enable_uring was N; set to Y as -o enable_uring asks"), m.logText());
            shOk("echo ok > " + q(m.path("f")) + " && cat " + q(m.path("f")));
            m.umount();
            assertTrue(m.logText().contains("FUSE over io_uring served"), m.logText());
        } finally {
            UringParameter.set(before);
        }
    }

}
