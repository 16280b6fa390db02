package io.daxfs.fuse.vfs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The caller's supplementary groups, as the permission checks of both front ends read them. */
class ProcGroupsTest {
    @Test
    void supplementaryGroupsAreParsedFromProcStatus() {
        assertArrayEquals(new int[] {4, 24, 27}, ProcGroups.parse("\t4 24 27 "));
        assertArrayEquals(new int[0], ProcGroups.parse("\t"));
        assertArrayEquals(new int[0], ProcGroups.of(-1), "no process: no groups, so nothing is granted by them");
    }
}
