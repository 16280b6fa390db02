package io.daxfs.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * POSIX ACLs and mode bits enforced by the daemon (mount option acl, the default, with
 * allow_other): other users, uids 1000 and 1001 made by setpriv with chosen groups, are allowed
 * and denied exactly as the ACLs say; ACLs follow chmod, default ACLs are inherited, the umask
 * applies without one; and noacl gives the kernel's mode-bit checks back.
 */
@MountedDaxfs(size = "64M", options = "allow_other", rootMode = "rwxrwxrwx")
class AclEnforcementTest {
    private static DaxfsMount m;

    @BeforeAll
    static void toolsInstalled() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setfacl")), "setfacl is not installed (package acl)");
    }

    /** {@code script} as {@code uid} (gid the same) with exactly the supplementary groups given. */
    private static String as(int uid, String script, int... groups) {
        StringBuilder g = new StringBuilder();
        for (int x : groups) {
            g.append(g.isEmpty() ? "" : ",").append(x);
        }
        return "cd " + q(m.mnt) + " && setpriv --reuid=" + uid + " --regid=" + uid
                + (groups.length == 0 ? " --clear-groups" : " --groups=" + g) + " sh -c " + q(script);
    }

    private static boolean ok(int uid, String script, int... groups) {
        return sh(as(uid, script, groups)).ok();
    }

    private static String inMnt(String script) {
        return shOk("cd " + q(m.mnt) + " && " + script).strip();
    }

    /**
     * The permission bits, as stat(2) sees them. Asking for the ctime too (%Z) makes the kernel
     * refresh attributes an ACL change left stale: a statx for the mode alone may be answered
     * from the attribute cache for up to 1 s (docs/permissions.md).
     */
    private static String mode(String names) {
        StringBuilder out = new StringBuilder();
        for (String line : inMnt("stat -c '%a %Z' " + names).split("\n")) {
            out.append(out.isEmpty() ? "" : " ").append(line.split(" ")[0]);
        }
        return out.toString();
    }

    @Test
    void aNamedUserEntryGrantsThatUserOnly() {
        inMnt("echo secret > named && chmod 600 named && setfacl -m u:1000:rw named");
        assertTrue(ok(1000, "echo more >> named && cat named"), "u:1000:rw grants uid 1000 write and read");
        assertFalse(ok(1001, "cat named"), "uid 1001 is still denied");
        assertFalse(ok(1001, "echo x >> named"));
        assertEquals("660", mode("named"), "the group bits show the mask");
        assertTrue(ok(1000, "test -w named"), "access(2) says the same");
        assertFalse(ok(1001, "test -r named"));
    }

    @Test
    void aNamedGroupEntryGrantsItsMembers() {
        inMnt("echo g > grp && chmod 600 grp && setfacl -m g:2000:r grp");
        assertTrue(ok(1001, "cat grp", 2000), "member of 2000 through a supplementary group");
        assertFalse(ok(1001, "cat grp"), "not a member");
        assertFalse(ok(1001, "echo x >> grp", 2000), "the entry grants read only");
    }

    @Test
    void theMaskLimitsANamedEntry() {
        inMnt("echo m > masked && chmod 600 masked && setfacl -m u:1000:rw,m::r masked");
        assertTrue(ok(1000, "cat masked"));
        assertFalse(ok(1000, "echo x >> masked"), "write is masked off");
        assertEquals("640", mode("masked"));
    }

    @Test
    void searchPermissionOnADirectoryThroughAnAcl() {
        inMnt("mkdir -m 700 searchable && echo in > searchable/f && chmod 644 searchable/f "
                + "&& setfacl -m u:1000:x searchable");
        assertTrue(ok(1000, "cat searchable/f && cd searchable"), "x through the ACL: search");
        assertFalse(ok(1000, "ls searchable"), "no r: no listing");
        assertFalse(ok(1001, "cat searchable/f"), "no entry: no search");
    }

    @Test
    void aStickyDirectoryProtectsOtherUsersEntries() {
        inMnt("mkdir -m 1777 sticky");
        assertTrue(ok(1000, "touch sticky/a && mkdir sticky/sub"));
        assertFalse(ok(1001, "rm -f sticky/a"), "not the owner of the entry nor of the directory");
        assertFalse(ok(1001, "mv sticky/a sticky/b"));
        assertFalse(ok(1001, "rmdir sticky/sub"));
        assertTrue(ok(1000, "rm sticky/a && rmdir sticky/sub"), "the owner may");
    }

    @Test
    void creatingAndDeletingNeedWriteAndSearchOnTheParent() {
        inMnt("mkdir -m 755 ro && touch ro/f && mkdir -m 777 open && mkdir -m 755 open/owned");
        assertFalse(ok(1000, "touch ro/new"));
        assertFalse(ok(1000, "rm -f ro/f"));
        assertFalse(ok(1000, "ln -s x ro/l"));
        inMnt("setfacl -m u:1000:rwx ro");
        assertTrue(ok(1000, "touch ro/new && rm ro/f && ln -s x ro/l && mkdir ro/dir"), "granted by the ACL");
        inMnt("mkdir -m 777 elsewhere");
        assertFalse(ok(1000, "mv open/owned elsewhere/"), "moving a directory to another parent needs w on it");
        assertTrue(ok(1000, "mv open/owned open/renamed"), "renaming it in place does not");
    }

    @Test
    void execNeedsXForTheCallerNotJustSomeXBit() {
        inMnt("cp /bin/true prog && chmod 744 prog");
        assertFalse(ok(1001, "./prog"), "only the owner has x");
        inMnt("setfacl -m u:1001:x prog");
        assertTrue(ok(1001, "./prog"), "x through the ACL; executing needs no read");
    }

    @Test
    void chmodChownAndUtimensFollowTheOwnershipRules() {
        inMnt("touch owned && chown 1000:1000 owned && chmod 666 owned");
        assertFalse(ok(1001, "chmod 600 owned"), "chmod: owner or root");
        assertTrue(ok(1000, "chmod 664 owned"));
        assertFalse(ok(1000, "chown 1001 owned"), "only root gives files away");
        assertFalse(ok(1000, "chgrp 3000 owned", 2000), "not a member of 3000");
        assertTrue(ok(1000, "chgrp 2000 owned", 2000), "the owner may chgrp to a group of theirs");
        assertFalse(ok(1001, "touch -d 2001-01-01 owned"), "explicit times: owner or root");
        inMnt("chmod 666 owned");
        assertTrue(ok(1001, "touch owned"), "now: write permission is enough");
        assertTrue(ok(1000, "touch -d 2001-01-01 owned"));
        inMnt("chmod 2775 owned");
        assertTrue(ok(1000, "chmod 2775 owned"));
        assertEquals("775", mode("owned"), "setgid dropped: the owner is not in group 2000");
        inMnt("touch theirs && chmod 666 theirs");
        assertFalse(ok(1000, "setfacl -m u:1000:rwx theirs"), "only the owner or root sets ACLs");
    }

    @Test
    void chmodUpdatesTheAclMask() {
        inMnt("touch cm && chmod 600 cm && setfacl -m u:1000:rw cm && chmod 640 cm");
        assertTrue(inMnt("getfacl -c cm").contains("mask::r--"), inMnt("getfacl -c cm"));
        assertTrue(inMnt("getfacl -c cm").contains("user:" + userName(1000) + ":rw-"), "the entry itself is kept");
        assertFalse(ok(1000, "echo x >> cm"), "masked by chmod");
        assertTrue(ok(1000, "cat cm"));
    }

    @Test
    void setfaclOfAnAclEquivalentToTheModeRemovesTheAttribute() {
        inMnt("touch eq && chmod 600 eq && setfacl -m u:1000:r eq && setfacl -b eq");
        assertEquals("600", mode("eq"));
        assertFalse(sh("getfattr -n system.posix_acl_access " + q(m.mnt.resolve("eq"))).ok(), "no attribute left");
        inMnt("setfacl -m g::rw eq");
        assertEquals("660", mode("eq"), "a base ACL just sets the mode");
    }

    @Test
    void defaultAclsAreInheritedWithoutTheUmask() {
        inMnt("mkdir inherit && setfacl -m d:u:1000:rwx,d:g::rx,d:o::- inherit");
        inMnt("umask 022 && touch inherit/f && mkdir inherit/sub");
        String file = inMnt("getfacl -c inherit/f");
        assertTrue(file.contains("user:" + userName(1000) + ":rwx"), file);
        assertTrue(file.contains("mask::rw-"), "masked by the requested mode 0666: " + file);
        assertEquals("660", mode("inherit/f"), "no umask; other from the default ACL");
        String dir = inMnt("getfacl -c inherit/sub");
        assertTrue(dir.contains("default:user:" + userName(1000) + ":rwx"), "directories inherit the default ACL: " + dir);
        assertEquals("770", mode("inherit/sub"));
        assertTrue(ok(1000, "echo mine > inherit/f && echo x > inherit/sub/g"), "the inherited entries grant");
        assertFalse(ok(1001, "cat inherit/f"));
    }

    @Test
    void withoutADefaultAclTheUmaskApplies() {
        inMnt("umask 022 && touch um644 && mkdir um755 && umask 077 && touch um600 && mkdir um700 && mkfifo fifo600");
        assertEquals("644 755 600 700 600", mode("um644 um755 um600 um700 fifo600"));
    }

    @Test
    void noaclGivesTheKernelsModeBitChecksBack() throws Exception {
        try (DaxfsMount other = DaxfsMount.empty()) {
            other.mkfs("64M");
            other.mount("allow_other,noacl");
            Files.setPosixFilePermissions(other.mnt, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path f = other.mnt.resolve("f");
            shOk("echo x > " + q(f) + " && chmod 600 " + q(f) + " && setfacl -m u:1000:rw " + q(f));
            assertTrue(shOk("getfacl -c " + q(f)).contains("user:" + userName(1000) + ":rw-"), "stored and returned");
            assertEquals("600", shOk("stat -c '%a %Z' " + q(f)).split(" ")[0], "the mode is left alone");
            assertFalse(sh("setpriv --reuid=1000 --regid=1000 --clear-groups cat " + q(f)).ok(),
                    "the kernel checks the mode bits only");
            assertTrue(shOk("grep " + q(other.mnt.toString()) + " /proc/mounts").contains("default_permissions"));
        }
        // With acl the libfuse front end checks in the daemon (no default_permissions); the kernel
        // front end has the kernel check, ACLs included (FUSE_POSIX_ACL implies default_permissions).
        assertEquals(DaxfsMount.kernelFrontend(),
                shOk("grep " + q(m.mnt.toString()) + " /proc/mounts").contains("default_permissions"),
                "who checks with acl");
    }

    /** getfacl prints names where the user database has them. */
    private static String userName(int uid) {
        String name = sh("getent passwd " + uid + " | cut -d: -f1").out().strip();
        return name.isEmpty() ? Integer.toString(uid) : name;
    }
}
