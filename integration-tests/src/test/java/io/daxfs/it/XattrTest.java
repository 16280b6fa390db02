package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.daxfs.it.Daxfs.pythonErrno;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Extended attributes and POSIX ACLs through a real mount, with the tools people use:
 * setfattr/getfattr (package attr), setfacl/getfacl (package acl), python3's os.*xattr and
 * the raw libc calls (size probing, ERANGE).
 */
@MountedDaxfs
class XattrTest {
    private DaxfsMount m;
    @TestDirectory
    private Path d;

    private static void assertContains(String haystack, String needle) {
        assertTrue(haystack.contains(needle), "expected \"" + needle + "\" in: " + haystack);
    }

    @Test
    void setfattrGetfattrAndListing() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "data");
        Path dir = Files.createDirectory(d.resolve("dir"));
        shOk("setfattr -n user.a -v hello " + q(f));
        shOk("setfattr -n user.b -v 0x00ff10 " + q(f));
        shOk("setfattr -n user.empty " + q(f));
        shOk("setfattr -n trusted.t -v tee " + q(f));
        shOk("setfattr -n security.s -v sec " + q(f));
        shOk("setfattr -n user.d -v indir " + q(dir));
        assertEquals("hello", shOk("getfattr --only-values -n user.a " + q(f)));
        String hex = shOk("cd " + q(d) + " && getfattr -d -e hex -m - f");
        assertEquals("""
                # file: f
                security.s=0x736563
                trusted.t=0x746565
                user.a=0x68656c6c6f
                user.b=0x00ff10
                user.empty=0x

                """, hex);
        // getfattr -d shows user.* only by default.
        assertEquals("# file: f\nuser.a=\"hello\"\nuser.b=0sAP8Q\nuser.empty=\"\"\n\n",
                shOk("cd " + q(d) + " && getfattr -d f"));
        assertEquals("# file: dir\nuser.d=\"indir\"\n\n", shOk("cd " + q(d) + " && getfattr -d dir"));
        shOk("setfattr -n user.a -v replaced " + q(f));
        assertEquals("replaced", shOk("getfattr --only-values -n user.a " + q(f)));
        assertEquals("OK", pythonErrno("assert sorted(os.listxattr(sys.argv[1])) == "
                + "['security.s', 'trusted.t', 'user.a', 'user.b', 'user.empty'], os.listxattr(sys.argv[1])", f));
        assertEquals("data", Files.readString(f), "the data is untouched");
    }

    @Test
    void removalWithDashX() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        shOk("setfattr -n user.a -v 1 " + q(f) + " && setfattr -n user.b -v 2 " + q(f));
        shOk("setfattr -x user.a " + q(f));
        assertContains(sh("getfattr -n user.a " + q(f)).expectFailure().err(), "No such attribute");
        assertContains(sh("setfattr -x user.a " + q(f)).expectFailure().err(), "No such attribute");
        assertEquals("# file: f\nuser.b=\"2\"\n\n", shOk("cd " + q(d) + " && getfattr -d f"));
        shOk("setfattr -x user.b " + q(f));
        assertEquals("", shOk("cd " + q(d) + " && getfattr -d f"));
        assertEquals("8", shOk("stat -c %b " + q(f)).strip(), "one data block left, no attribute block");
    }

    @Test
    void errnoValues() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        Path link = Files.createSymbolicLink(d.resolve("link"), Path.of("f"));
        shOk("setfattr -n user.a -v 1 " + q(f));
        assertEquals("EEXIST", pythonErrno("os.setxattr(sys.argv[1], 'user.a', b'2', os.XATTR_CREATE)", f));
        assertEquals("ENODATA", pythonErrno("os.setxattr(sys.argv[1], 'user.new', b'2', os.XATTR_REPLACE)", f));
        assertEquals("OK", pythonErrno("os.setxattr(sys.argv[1], 'user.a', b'3', os.XATTR_REPLACE)", f));
        assertEquals("OK", pythonErrno("os.setxattr(sys.argv[1], 'user.c', b'4', os.XATTR_CREATE)", f));
        assertEquals("ENODATA", pythonErrno("os.getxattr(sys.argv[1], 'user.missing')", f));
        assertEquals("ENODATA", pythonErrno("os.removexattr(sys.argv[1], 'user.missing')", f));
        // EOPNOTSUPP and ENOTSUP are the same number on Linux; python names it ENOTSUP.
        assertEquals("ENOTSUP", pythonErrno("os.setxattr(sys.argv[1], 'foo.bar', b'1')", f));
        assertEquals("ENOTSUP", pythonErrno("os.getxattr(sys.argv[1], 'system.other')", f));
        assertEquals("ERANGE", pythonErrno("os.setxattr(sys.argv[1], 'user.' + 'n' * 251, b'1')", f));
        assertEquals("OK", pythonErrno("os.setxattr(sys.argv[1], 'user.' + 'n' * 250, b'1')", f));
        assertEquals("E2BIG", pythonErrno("os.setxattr(sys.argv[1], 'user.big', b'x' * 65537)", f));
        assertEquals("EPERM", pythonErrno("os.setxattr(sys.argv[1], 'user.x', b'1', follow_symlinks=False)", link));
        assertEquals("OK", pythonErrno("os.setxattr(sys.argv[1], 'trusted.x', b'1', follow_symlinks=False)", link));
        assertEquals("OK", pythonErrno("assert os.getxattr(sys.argv[1], 'trusted.x', follow_symlinks=False) == b'1'", link));
        assertEquals("ENODATA", pythonErrno("os.getxattr(sys.argv[1], 'trusted.x')", link), "follows to the file");
        // The size protocol of the raw calls: size 0 asks for the length, too small is ERANGE.
        String raw = """
                libc = ctypes.CDLL(None, use_errno=True)
                p = sys.argv[1].encode()
                n = libc.getxattr(p, b'user.a', None, 0)
                assert n == 1, n
                buf = ctypes.create_string_buffer(1024)
                assert libc.getxattr(p, b'user.a', buf, 1024) == 1 and buf.raw[:1] == b'3'
                os.setxattr(sys.argv[1], 'user.long', b'abcdef')
                r = libc.getxattr(p, b'user.long', buf, 3)
                assert r == -1 and ctypes.get_errno() == errno.ERANGE, (r, ctypes.get_errno())
                total = libc.listxattr(p, None, 0)
                assert total == 7 + 7 + 10 + 256 and total == libc.listxattr(p, buf, 1024), total
                names = buf.raw[:total].split(b'\\0')[:-1]
                assert sorted(names) == sorted([b'user.a', b'user.c', b'user.long', b'user.' + b'n' * 250]), names
                r = libc.listxattr(p, buf, 5)
                assert r == -1 and ctypes.get_errno() == errno.ERANGE, (r, ctypes.get_errno())
                """;
        assertEquals("OK", pythonErrno(raw, f));
    }

    @Test
    void aThousandAttributes() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        assertEquals("OK", pythonErrno("""
                for i in range(1000):
                    os.setxattr(sys.argv[1], 'user.attribute-%04d' % i, b'v' * (i % 200) + str(i).encode())
                """, f));
        assertEquals("1000", shOk("getfattr -d " + q(f) + " | grep -c '^user\\.attribute-'").strip());
        assertEquals("OK", pythonErrno("""
                names = sorted(os.listxattr(sys.argv[1]))
                assert names == ['user.attribute-%04d' % i for i in range(1000)], len(names)
                for i in range(1000):
                    assert os.getxattr(sys.argv[1], names[i]) == b'v' * (i % 200) + str(i).encode(), i
                """, f));
        assertEquals("v" + "v".repeat(998 % 200 - 1) + "998",
                shOk("getfattr --only-values -n user.attribute-0998 " + q(f)));
        m.remount();
        assertEquals("1000", shOk("getfattr -d " + q(f) + " | grep -c '^user\\.attribute-'").strip());
    }

    @Test
    void aValueOf64KiB() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        assertEquals("OK", pythonErrno("""
                v = random.Random(64).randbytes(65536)
                os.setxattr(sys.argv[1], 'user.big', v)
                open(sys.argv[1] + '.sha', 'w').write(hashlib.sha256(v).hexdigest())
                """, f));
        String sha = Files.readString(d.resolve("f.sha"));
        assertEquals(sha + "  -", shOk("getfattr --only-values -n user.big " + q(f) + " | sha256sum").strip());
        assertEquals("65536", shOk("getfattr --only-values -n user.big " + q(f) + " | wc -c").strip());
        assertEquals("E2BIG", pythonErrno("os.setxattr(sys.argv[1], 'user.bigger', b'x' * 65537)", f));
        m.remount();
        assertEquals(sha + "  -", shOk("getfattr --only-values -n user.big " + q(f) + " | sha256sum").strip());
        // 1 data block + 1 index block + 16 value blocks.
        assertEquals("144", shOk("stat -c %b " + q(f)).strip());
    }

    @Test
    void survivesUmountFsckAndMount() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "data");
        Path dir = Files.createDirectory(d.resolve("dir"));
        shOk("setfattr -n user.a -v persistent " + q(f));
        shOk("setfattr -n trusted.t -v 0x0102 " + q(f));
        assertEquals("OK", pythonErrno("os.setxattr(sys.argv[1], 'user.blob', random.Random(5).randbytes(40000))", f));
        shOk("setfacl -m u:1234:rw,g:55:r " + q(f));
        shOk("setfacl -d -m u:1234:rwx " + q(dir));
        String before = shOk("cd " + q(d) + " && getfattr -R -d -e hex -m - . && getfacl -R .");
        m.umount();
        m.fsckClean();
        m.mount();
        assertEquals(before, shOk("cd " + q(d) + " && getfattr -R -d -e hex -m - . && getfacl -R ."));
        assertContains(before, "user.a=0x70657273697374656e74");
        assertContains(before, "user.blob=0x");
        assertContains(before, "user:1234:rw-");
        assertContains(before, "default:user:1234:rwx");
        // And a SIGKILL of the daemon right after a change.
        shOk("setfattr -n user.after-kill -v yes " + q(f));
        m.kill9();
        m.fsckClean();
        m.mount();
        assertEquals("yes", shOk("getfattr --only-values -n user.after-kill " + q(f)));
    }

    @Test
    void setfaclGetfaclRoundTrip() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        Path dir = Files.createDirectory(d.resolve("dir"));
        shOk("chmod 640 " + q(f));
        shOk("setfacl -m u:1234:rw,g:55:r " + q(f));
        String acl = shOk("getfacl -c " + q(f));
        assertContains(acl, "user::rw-");
        assertContains(acl, "user:1234:rw-");
        assertContains(acl, "group:55:r--");
        assertContains(acl, "mask::rw-");
        assertContains(acl, "other::---");
        assertContains(shOk("ls -l " + q(f)), "+ 1 "); // ls sees that the file has an ACL
        shOk("setfacl -x u:1234 " + q(f));
        assertFalse(shOk("getfacl -c " + q(f)).contains("1234"), "entry removed");
        // setfacl -b sets the base ACL, which the mode says alone: as on Linux file systems (with
        // the acl mount option, the default) it is folded into the mode and no attribute is kept.
        shOk("setfacl -b " + q(f));
        assertEquals("user::rw-\ngroup::r--\nother::---\n\n", shOk("getfacl -c " + q(f)), "extended entries removed");
        assertEquals("", shOk("getfattr -d -m - " + q(f)), "no attribute left");
        shOk("setfacl -m u:1234:r " + q(f) + " && setfattr -x system.posix_acl_access " + q(f));
        assertEquals("", shOk("getfattr -d -m - " + q(f)), "removed");
        assertEquals("user::rw-\ngroup::r--\nother::---\n\n", shOk("getfacl -c " + q(f)), "from the mode");

        shOk("setfacl -d -m u:1234:rwx,g::r-x " + q(dir));
        String def = shOk("getfacl -c " + q(dir));
        assertContains(def, "default:user:1234:rwx");
        assertContains(def, "default:group::r-x");
        assertEquals(List.of("system.posix_acl_default"), shOk("getfattr -d -m - " + q(dir)).lines()
                .filter(l -> l.startsWith("system.")).map(l -> l.substring(0, l.indexOf('='))).toList());
        shOk("setfacl -k " + q(dir));
        assertFalse(shOk("getfacl -c " + q(dir)).contains("default:"), "default ACL removed");
        // An ACL copies with the file (cp -a reads and sets it).
        shOk("setfacl -m u:77:r " + q(f) + " && cp -a " + q(f) + " " + q(d.resolve("copy")));
        assertContains(shOk("getfacl -c " + q(d.resolve("copy"))), "user:77:r--");
    }

    /**
     * An access ACL of the base entries plus a mask (no named entries) is kept as an attribute,
     * as on Linux file systems: the mode's group bits show the mask, and listing the names
     * into a buffer too small for "system.posix_acl_access" fails with ERANGE (xfstests
     * generic/529, whose t_attr_corruption does exactly this).
     */
    @Test
    void anAclWithOnlyAMaskIsKept() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        shOk("chmod 644 " + q(f));
        String raw = """
                import struct
                acl = struct.pack('<I', 2) + b''.join(struct.pack('<HHI', tag, perm, 0)
                        for tag, perm in ((1, 0), (4, 0), (0x10, 4), (0x20, 0)))
                fd = os.open(sys.argv[1], os.O_RDONLY)
                os.setxattr(fd, 'system.posix_acl_access', acl)
                assert os.listxattr(fd) == ['system.posix_acl_access'], os.listxattr(fd)
                assert oct(os.stat(fd).st_mode & 0o777) == '0o40', oct(os.stat(fd).st_mode)
                libc = ctypes.CDLL(None, use_errno=True)
                buf = ctypes.create_string_buffer(64)
                r = libc.flistxattr(fd, buf, 20)
                assert r == -1 and ctypes.get_errno() == errno.ERANGE, (r, ctypes.get_errno())
                """;
        assertEquals("OK", pythonErrno(raw, f));
        assertEquals("user::---\ngroup::---\nmask::r--\nother::---\n\n", shOk("getfacl -c " + q(f)));
    }

    @Test
    void trustedNamesAreListedOnlyToRoot() throws IOException {
        Path f = Files.writeString(d.resolve("f"), "x");
        shOk("chmod 755 " + q(d) + " && chmod 644 " + q(f));
        shOk("setfattr -n user.u -v 1 " + q(f) + " && setfattr -n trusted.t -v 2 " + q(f));
        assertContains(shOk("getfattr -d -m - " + q(f)), "trusted.t");
        m.umount();
        m.mount("allow_other"); // so that another user can look
        try {
            String nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
            String asNobody = shOk(nobody + "getfattr -d -m - " + q(f));
            assertContains(asNobody, "user.u");
            assertFalse(asNobody.contains("trusted.t"), asNobody);
            // As Linux: trusted.* reads as absent to an unprivileged caller.
            assertContains(sh(nobody + "getfattr -n trusted.t " + q(f)).expectFailure().err(), "No such attribute");
            assertContains(sh(nobody + "setfattr -n user.v -v 1 " + q(f)).expectFailure().err(), "Permission denied");
        } finally {
            m.umount();
            m.mount();
        }
    }

    @Test
    void unlinkGivesEverythingBack() throws IOException {
        String free = shOk("stat -f -c '%f %d' " + q(m.mnt)).strip();
        Path f = Files.writeString(d.resolve("f"), "x".repeat(10_000));
        assertEquals("OK", pythonErrno("""
                for i in range(200):
                    os.setxattr(sys.argv[1], 'user.v%d' % i, b'y' * (i * 50))
                """, f));
        Files.delete(f);
        assertEquals(free, shOk("stat -f -c '%f %d' " + q(m.mnt)).strip(), "free blocks and inodes");
    }
}
