package io.daxfs.core.perm;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.daxfs.core.perm.Acl.GROUP;
import static io.daxfs.core.perm.Acl.GROUP_OBJ;
import static io.daxfs.core.perm.Acl.MASK;
import static io.daxfs.core.perm.Acl.OTHER;
import static io.daxfs.core.perm.Acl.UNDEFINED_ID;
import static io.daxfs.core.perm.Acl.USER;
import static io.daxfs.core.perm.Acl.USER_OBJ;
import static io.daxfs.core.perm.PermissionChecker.MAY_EXEC;
import static io.daxfs.core.perm.PermissionChecker.MAY_READ;
import static io.daxfs.core.perm.PermissionChecker.MAY_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The access check, entry type by entry type, against what Linux decides. */
class PermissionCheckerTest {
    private static final int REG = 0100000;
    private static final int DIR = 0040000;
    private static final int RW = MAY_READ | MAY_WRITE;
    private static final Credentials ROOT = Credentials.of(0, 0);

    private static AclEntry e(int tag, int perm) {
        return new AclEntry(tag, perm, UNDEFINED_ID);
    }

    private static AclEntry e(int tag, int perm, int id) {
        return new AclEntry(tag, perm, id);
    }

    private static boolean may(Credentials who, int mode, int uid, int gid, Acl acl, int want) {
        return PermissionChecker.permits(who, new PermissionChecker.Inode(mode, uid, gid), () -> acl, want);
    }

    private static boolean may(Credentials who, int mode, int want) {
        return may(who, mode, 0, 0, null, want);
    }

    @Test
    void modeBitsForOwnerGroupAndOther() {
        Credentials owner = Credentials.of(1000, 1000);
        Credentials member = Credentials.of(1001, 1001, 50);
        Credentials other = Credentials.of(1002, 1002);
        int mode = REG | 0640;
        assertTrue(may(owner, mode, 1000, 50, null, RW));
        assertFalse(may(owner, mode, 1000, 50, null, MAY_EXEC));
        assertTrue(may(member, mode, 1000, 50, null, MAY_READ), "supplementary group 50");
        assertFalse(may(member, mode, 1000, 50, null, MAY_WRITE));
        assertFalse(may(other, mode, 1000, 50, null, MAY_READ));
        assertTrue(may(Credentials.of(1003, 50), mode, 1000, 50, null, MAY_READ), "primary group");
    }

    @Test
    void theOwnerGetsTheOwnerBitsEvenWhenOthersGetMore() {
        Credentials owner = Credentials.of(1000, 1000);
        assertFalse(may(owner, REG | 0077, 1000, 1000, null, MAY_READ), "owner class decides, no fall-through");
        assertFalse(may(Credentials.of(1001, 50), REG | 0707, 1000, 50, null, MAY_READ),
                "the group class decides for a member");
    }

    @Test
    void groupsAreFetchedOnlyWhenTheDecisionDependsOnThem() {
        AtomicInteger fetched = new AtomicInteger();
        Credentials c = new Credentials(1001, 1001, () -> {
            fetched.incrementAndGet();
            return new int[] {50};
        });
        assertTrue(may(c, REG | 0644, 0, 50, null, MAY_READ), "group and other agree on read");
        assertEquals(0, fetched.get());
        assertTrue(may(c, REG | 0664, 0, 50, null, MAY_WRITE));
        assertTrue(may(c, REG | 0660, 0, 50, null, MAY_READ));
        assertEquals(1, fetched.get(), "fetched once, then remembered");
        AtomicInteger aclReads = new AtomicInteger();
        PermissionChecker.permits(Credentials.of(1000, 1000), new PermissionChecker.Inode(REG | 0600, 1000, 0),
                () -> {
                    aclReads.incrementAndGet();
                    return null;
                }, MAY_READ);
        PermissionChecker.permits(Credentials.of(1001, 1001), new PermissionChecker.Inode(REG | 0604, 1000, 0),
                () -> {
                    aclReads.incrementAndGet();
                    return null;
                }, MAY_READ);
        assertEquals(0, aclReads.get(), "no ACL read for the owner nor with clear group bits");
    }

    @Test
    void namedUserEntryGrantsAndOthersAreStillDenied() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 6), e(USER, 6, 1000), e(GROUP_OBJ, 0), e(MASK, 6), e(OTHER, 0)));
        int mode = REG | 0660; // group bits = mask
        assertTrue(may(Credentials.of(1000, 1000), mode, 0, 0, acl, RW));
        assertFalse(may(Credentials.of(1001, 1001), mode, 0, 0, acl, MAY_READ));
        assertFalse(may(Credentials.of(1000, 1000), mode, 0, 0, acl, MAY_EXEC), "not granted by the entry");
    }

    @Test
    void theMaskLimitsNamedEntriesAndTheOwningGroup() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 7), e(USER, 7, 1000), e(GROUP_OBJ, 6), e(GROUP, 6, 60),
                e(MASK, 4), e(OTHER, 0)));
        int mode = REG | 0740;
        assertTrue(may(Credentials.of(1000, 1000), mode, 0, 50, acl, MAY_READ));
        assertFalse(may(Credentials.of(1000, 1000), mode, 0, 50, acl, MAY_WRITE), "masked off");
        assertFalse(may(Credentials.of(1001, 50), mode, 0, 50, acl, MAY_WRITE), "owning group masked");
        assertTrue(may(Credentials.of(1001, 50), mode, 0, 50, acl, MAY_READ));
        assertFalse(may(Credentials.of(1002, 1002, 60), mode, 0, 50, acl, MAY_WRITE), "named group masked");
        assertTrue(may(Credentials.of(0 + 7, 7), mode, 7, 50, acl, MAY_WRITE | MAY_EXEC),
                "the owner is not masked");
    }

    @Test
    void anyMatchingGroupEntryThatGrantsIsEnough() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 6), e(GROUP_OBJ, 4), e(GROUP, 2, 60), e(GROUP, 6, 70),
                e(MASK, 7), e(OTHER, 4)));
        int mode = REG | 0674;
        Credentials both = Credentials.of(1001, 1001, 60, 70);
        assertTrue(may(both, mode, 0, 50, acl, RW), "group 70 grants rw although group 60 does not");
        Credentials only60 = Credentials.of(1001, 1001, 60);
        assertTrue(may(only60, mode, 0, 50, acl, MAY_WRITE));
        assertFalse(may(only60, mode, 0, 50, acl, MAY_READ),
                "a matching group entry that does not grant denies: no fall-through to other (r)");
        assertTrue(may(Credentials.of(1001, 1001), mode, 0, 50, acl, MAY_READ), "no group matches: other");
    }

    @Test
    void namedUserBeatsGroupEntries() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 6), e(USER, 0, 1000), e(GROUP_OBJ, 6), e(MASK, 6), e(OTHER, 6)));
        assertFalse(may(Credentials.of(1000, 50), REG | 0666, 0, 50, acl, MAY_READ),
                "a named-user entry decides, even with nothing granted");
    }

    @Test
    void clearGroupBitsMeanTheAclIsNotConsulted() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 6), e(USER, 6, 1000), e(GROUP_OBJ, 0), e(MASK, 0), e(OTHER, 0)));
        assertFalse(may(Credentials.of(1000, 1000), REG | 0600, 0, 0, acl, MAY_READ));
    }

    @Test
    void searchPermissionOnADirectoryThroughAnAcl() {
        Acl acl = Acl.of(List.of(e(USER_OBJ, 7), e(USER, 1, 1000), e(GROUP_OBJ, 0), e(MASK, 1), e(OTHER, 0)));
        assertTrue(may(Credentials.of(1000, 1000), DIR | 0710, 0, 0, acl, MAY_EXEC));
        assertFalse(may(Credentials.of(1000, 1000), DIR | 0710, 0, 0, acl, MAY_READ));
        assertFalse(may(Credentials.of(1001, 1001), DIR | 0710, 0, 0, acl, MAY_EXEC));
    }

    @Test
    void rootBypassesReadWriteAndSearchButExecNeedsAnXBit() {
        assertTrue(may(ROOT, REG, 1000, 1000, null, RW));
        assertTrue(may(ROOT, DIR, 1000, 1000, null, RW | MAY_EXEC));
        assertFalse(may(ROOT, REG | 0666, 1000, 1000, null, MAY_EXEC), "no x bit at all");
        assertTrue(may(ROOT, REG | 0001, 1000, 1000, null, MAY_EXEC), "any x bit");
        assertFalse(may(ROOT, 0020000 | 0666, 1000, 1000, null, MAY_EXEC), "device node: same rule");
    }

    @Test
    void aclRoundTripsThroughItsXattrForm() {
        Acl acl = Acl.of(List.of(e(OTHER, 4), e(USER, 6, 1001), e(USER_OBJ, 6), e(USER, 4, 1000),
                e(GROUP_OBJ, 4), e(MASK, 6)));
        byte[] bytes = acl.toBytes();
        assertEquals(4 + 8 * 6, bytes.length);
        assertEquals(2, bytes[0]);
        Acl back = Acl.parse(bytes);
        assertEquals(acl, back);
        assertEquals("user::rw-,user:1000:r--,user:1001:rw-,group::r--,mask::rw-,other::r--", back.toString(),
                "kernel order: tag, then id");
    }

    @Test
    void invalidAclsAreRejected() {
        assertEquals(io.daxfs.core.base.Errno.EINVAL, org.junit.jupiter.api.Assertions.assertThrows(
                io.daxfs.core.base.FsException.class, () -> Acl.of(List.of(e(USER_OBJ, 6), e(USER, 6, 5),
                        e(GROUP_OBJ, 4), e(OTHER, 4)))).errno(), "named entry without mask");
        org.junit.jupiter.api.Assertions.assertThrows(io.daxfs.core.base.FsException.class,
                () -> Acl.parse(new byte[] {1, 0, 0, 0}));
        org.junit.jupiter.api.Assertions.assertThrows(io.daxfs.core.base.FsException.class,
                () -> Acl.parse(new byte[] {2, 0, 0, 0, 1}));
    }
}
