package io.daxfs.core.perm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.daxfs.core.perm.Acl.GROUP;
import static io.daxfs.core.perm.Acl.GROUP_OBJ;
import static io.daxfs.core.perm.Acl.MASK;
import static io.daxfs.core.perm.Acl.OTHER;
import static io.daxfs.core.perm.Acl.UNDEFINED_ID;
import static io.daxfs.core.perm.Acl.USER;
import static io.daxfs.core.perm.Acl.USER_OBJ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The couplings of ACL and mode that fs/posix_acl.c defines. */
class AclModeTest {
    private static AclEntry e(int tag, int perm) {
        return new AclEntry(tag, perm, UNDEFINED_ID);
    }

    @Test
    void setAnAccessAclSetsTheGroupBitsFromTheMask() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 6), new AclEntry(USER, 7, 1000), e(GROUP_OBJ, 4), e(MASK, 7),
                e(OTHER, 0)));
        assertFalse(acl.isEquivalentToMode());
        assertEquals(0106670, acl.applyToMode(0106000 | 0644), "owner rw, group = mask rwx, other none; setuid kept");
        assertEquals(-1, acl.equivalentMode(0644));
    }

    @Test
    void anAclWithoutNamedEntriesIsTheMode() {
        Acl base = Acl.fromMode(0751);
        assertTrue(base.isEquivalentToMode());
        assertEquals(0100751, base.equivalentMode(0100000));
    }

    /**
     * xfstests generic/529: an ACL of the four base entries plus a mask is not the mode (the
     * owning group's entry would be lost), so it is stored, as posix_acl_equiv_mode says; the
     * group bits of the mode show the mask.
     */
    @Test
    void anAclWithAMaskButNoNamedEntriesIsNotTheMode() {
        Acl masked = Acl.of(List.of(e(USER_OBJ, 7), e(GROUP_OBJ, 7), e(MASK, 4), e(OTHER, 0)));
        assertFalse(masked.isEquivalentToMode());
        assertEquals(-1, masked.equivalentMode(0));
        assertEquals(0740, masked.applyToMode(0), "the mask wins for the group bits");
    }

    @Test
    void chmodUpdatesTheMaskOrTheOwningGroup() {
        Acl withMask = Acl.of(List.of(e(USER_OBJ, 6), new AclEntry(GROUP, 7, 60), e(GROUP_OBJ, 6), e(MASK, 7),
                e(OTHER, 4)));
        assertEquals("user::rwx,group::rw-,group:60:rwx,mask::r-x,other::---", withMask.chmod(0750).toString());
        Acl noMask = Acl.fromMode(0644);
        assertEquals("user::r--,group::-w-,other::--x", noMask.chmod(0421).toString());
    }

    @Test
    void createMasksTheDefaultAclWithTheRequestedMode() {
        Acl dflt = Acl.of(List.of(e(USER_OBJ, 7), new AclEntry(USER, 7, 1000), e(GROUP_OBJ, 5), e(MASK, 7),
                e(OTHER, 5)));
        Acl.Created file = dflt.createMasked(0100666);
        assertEquals(0100664, file.mode(), "rw-rw-r--: mask rw-, other r--");
        assertEquals("user::rw-,user:1000:rwx,group::r-x,mask::rw-,other::r--", file.access().toString());
        Acl.Created dir = dflt.createMasked(0040777);
        assertEquals(0040775, dir.mode());
        assertEquals(dflt, dir.access());
    }

    @Test
    void createFromAnEquivalentDefaultGivesOnlyAMode() {
        Acl.Created c = Acl.fromMode(0750).createMasked(0100666);
        assertEquals(0100640, c.mode());
        assertNull(c.access());
    }
}
