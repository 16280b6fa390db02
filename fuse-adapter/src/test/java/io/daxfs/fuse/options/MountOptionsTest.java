package io.daxfs.fuse.options;

import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.MountSettings;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountOptionsTest {
    private static MountOptions parse(String... lists) {
        return MountOptions.parse(List.of(lists));
    }

    private static String fuseOptions(MountOptions m) {
        return m.fuseArgs("img").get(1);
    }

    @Test
    void relatimeIsTheDefault() {
        assertEquals(AtimePolicy.RELATIME, parse().atimePolicy());
        assertEquals(AtimePolicy.RELATIME, parse("relatime").atimePolicy());
        assertEquals(AtimePolicy.RELATIME, parse("atime").atimePolicy());
    }

    @Test
    void atimeOptionsLibfuseWouldRefuseAreConsumed() {
        MountOptions m = parse("strictatime,nodiratime");
        assertEquals(new AtimePolicy(AtimePolicy.Mode.STRICT, false), m.atimePolicy());
        for (String o : List.of("strictatime", "relatime", "nodiratime")) {
            assertFalse(fuseOptions(m).contains(o), o + " reaches libfuse 2, which refuses it: " + fuseOptions(m));
        }
        assertFalse(fuseOptions(parse("relatime,diratime,norelatime,nostrictatime")).contains("atime"));
    }

    @Test
    void noatimeIsAppliedAndPassedOnAsTheKernelFlag() {
        MountOptions m = parse("noatime");
        assertEquals(AtimePolicy.Mode.NEVER, m.atimePolicy().mode());
        assertTrue(("," + fuseOptions(m) + ",").contains(",noatime,"), fuseOptions(m));
    }

    @Test
    void theLastAtimeOptionWins() {
        assertEquals(AtimePolicy.Mode.STRICT, parse("noatime", "strictatime").atimePolicy().mode());
        assertEquals(AtimePolicy.Mode.NEVER, parse("strictatime,noatime").atimePolicy().mode());
        assertTrue(parse("nodiratime,diratime").atimePolicy().directories());
    }

    @Test
    void enableUringIsDaxfsOwnAndReachesNeitherLibfuseNorTheKernel() {
        MountOptions m = parse("frontend=uring,enable_uring");
        assertTrue(m.enableUring());
        assertEquals(MountOptions.FrontEndKind.URING, m.frontEnd());
        assertFalse(fuseOptions(m).contains("uring"), fuseOptions(m));
        assertFalse(String.join(",", m.kernelMountOptions("img")).contains("uring"));
        assertFalse(parse("frontend=uring").enableUring(), "never without being asked");
    }

    @Test
    void aReadOnlyMountNeverUpdatesAtime() {
        assertEquals(AtimePolicy.Mode.NEVER, parse("ro,strictatime").atimePolicy().mode());
    }

    @Test
    void errorsAndCheckAreDaxfsOptions() {
        MountSettings d = parse().settings();
        assertEquals(MountSettings.Errors.REMOUNT_RO, d.errors(), "errors=remount-ro is the default");
        assertEquals(MountSettings.Check.AUTO, d.check());
        assertFalse(d.readOnly());
        MountOptions m = parse("errors=continue,check=full", "ro");
        assertEquals(MountSettings.Errors.CONTINUE, m.settings().errors());
        assertEquals(MountSettings.Check.FULL, m.settings().check());
        assertTrue(m.settings().readOnly());
        assertEquals(MountSettings.Errors.REMOUNT_RO, parse("errors=continue,errors=remount-ro").settings().errors());
        assertEquals(MountSettings.Check.QUICK, parse("check=quick").settings().check());
        for (String o : List.of("errors", "check")) {
            assertFalse(fuseOptions(m).contains(o), o + " is daxfs's own: " + fuseOptions(m));
        }
        assertTrue(fuseOptions(m).contains("ro"), "ro reaches the kernel too");
        assertThrows(IllegalArgumentException.class, () -> parse("errors=panic"));
        assertThrows(IllegalArgumentException.class, () -> parse("check=none"));
    }
}
