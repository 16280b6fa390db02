package io.daxfs.core.perm;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A POSIX ACL, as Linux passes it in {@code system.posix_acl_access} and
 * {@code system.posix_acl_default} (include/uapi/linux/posix_acl_xattr.h): a little-endian u32
 * version 2, then entries of u16 tag, u16 perm, u32 id. Entries are kept in the kernel's order
 * (tag, then id), which is what the access check relies on.
 *
 * <p>Also the couplings of an ACL with the mode bits that fs/posix_acl.c defines:
 * {@link #equivalentMode} (posix_acl_equiv_mode), {@link #chmod} (__posix_acl_chmod) and
 * {@link #createMasked} (posix_acl_create_masq).
 */
public final class Acl {
    public static final int USER_OBJ = 0x01;
    public static final int USER = 0x02;
    public static final int GROUP_OBJ = 0x04;
    public static final int GROUP = 0x08;
    public static final int MASK = 0x10;
    public static final int OTHER = 0x20;
    public static final int UNDEFINED_ID = -1;
    static final int VERSION = 2;
    private static final int HEADER = 4;
    private static final int ENTRY = 8;

    private final List<AclEntry> entries;

    private Acl(List<AclEntry> entries) {
        List<AclEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingInt(AclEntry::tag).thenComparing((a, b) -> Integer.compareUnsigned(a.id(), b.id())));
        this.entries = List.copyOf(sorted);
    }

    public static Acl of(List<AclEntry> entries) {
        Acl acl = new Acl(entries);
        acl.validate();
        return acl;
    }

    /** Parses the extended-attribute form; EINVAL if it is malformed or not a valid ACL. */
    public static Acl parse(byte[] value) {
        if (value.length < HEADER || (value.length - HEADER) % ENTRY != 0) {
            throw new FsException(Errno.EINVAL, "malformed POSIX ACL of " + value.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt();
        if (version != VERSION) {
            throw new FsException(Errno.EINVAL, "POSIX ACL version " + version + ", expected " + VERSION);
        }
        List<AclEntry> list = new ArrayList<>();
        while (b.hasRemaining()) {
            int tag = b.getShort() & 0xffff;
            int perm = b.getShort() & 0xffff;
            int id = b.getInt();
            if ((perm & ~7) != 0) {
                throw new FsException(Errno.EINVAL, "ACL permission " + perm);
            }
            list.add(new AclEntry(tag, perm, tag == USER || tag == GROUP ? id : UNDEFINED_ID));
        }
        return of(list);
    }

    /** The three-entry ACL a mode stands for. */
    public static Acl fromMode(int mode) {
        return new Acl(List.of(new AclEntry(USER_OBJ, (mode >> 6) & 7, UNDEFINED_ID),
                new AclEntry(GROUP_OBJ, (mode >> 3) & 7, UNDEFINED_ID),
                new AclEntry(OTHER, mode & 7, UNDEFINED_ID)));
    }

    /** The extended-attribute form. */
    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(HEADER + ENTRY * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(VERSION);
        for (AclEntry e : entries) {
            b.putShort((short) e.tag());
            b.putShort((short) e.perm());
            b.putInt(e.id());
        }
        return b.array();
    }

    public List<AclEntry> entries() {
        return entries;
    }

    /**
     * posix_acl_valid: exactly one USER_OBJ, GROUP_OBJ and OTHER; named entries unique; a MASK
     * (at most one) whenever there is a named entry. EINVAL otherwise.
     */
    private void validate() {
        int userObj = 0;
        int groupObj = 0;
        int other = 0;
        int mask = 0;
        int named = 0;
        AclEntry previous = null;
        for (AclEntry e : entries) {
            switch (e.tag()) {
                case USER_OBJ -> userObj++;
                case GROUP_OBJ -> groupObj++;
                case OTHER -> other++;
                case MASK -> mask++;
                case USER, GROUP -> {
                    named++;
                    if (previous != null && previous.tag() == e.tag() && previous.id() == e.id()) {
                        throw new FsException(Errno.EINVAL, "duplicate ACL entry for id " + e.id());
                    }
                }
                default -> throw new FsException(Errno.EINVAL, "unknown ACL tag " + e.tag());
            }
            previous = e;
        }
        if (userObj != 1 || groupObj != 1 || other != 1 || mask > 1 || (named > 0 && mask == 0)) {
            throw new FsException(Errno.EINVAL, "invalid POSIX ACL " + this);
        }
    }

    private AclEntry find(int tag) {
        for (AclEntry e : entries) {
            if (e.tag() == tag) {
                return e;
            }
        }
        return null;
    }

    /** The mask entry's permissions, or -1 if there is no mask. */
    int maskPerm() {
        AclEntry m = find(MASK);
        return m == null ? -1 : m.perm();
    }

    /**
     * posix_acl_equiv_mode: {@code mode} with its rwx bits replaced by what the ACL says (owner
     * from USER_OBJ, group from MASK if any else GROUP_OBJ, other from OTHER); the other bits
     * (type, setuid, setgid, sticky) are kept.
     */
    public int applyToMode(int mode) {
        int bits = 0;
        for (AclEntry e : entries) {
            switch (e.tag()) {
                case USER_OBJ -> bits |= e.perm() << 6;
                case GROUP_OBJ -> {
                    if (find(MASK) == null) {
                        bits |= e.perm() << 3;
                    }
                }
                case MASK -> bits |= e.perm() << 3;
                case OTHER -> bits |= e.perm();
                default -> {
                }
            }
        }
        return (mode & ~0777) | bits;
    }

    /**
     * Whether the mode bits say all this ACL says - no named entries and no mask: then Linux
     * stores no ACL at all (posix_acl_equiv_mode returning 0). A mask alone is not equivalent:
     * the group bits then show the mask, and the owning group's own entry is kept in the ACL.
     */
    public boolean isEquivalentToMode() {
        for (AclEntry e : entries) {
            if (e.tag() == USER || e.tag() == GROUP || e.tag() == MASK) {
                return false;
            }
        }
        return true;
    }

    /** {@link #applyToMode} if {@link #isEquivalentToMode}, else -1. */
    public int equivalentMode(int mode) {
        return isEquivalentToMode() ? applyToMode(mode) : -1;
    }

    /**
     * __posix_acl_chmod: the ACL after chmod to {@code mode}. USER_OBJ and OTHER take the owner
     * and other bits; the group bits go to the MASK if there is one (the owning group's own
     * entry is kept), else to GROUP_OBJ.
     */
    public Acl chmod(int mode) {
        boolean hasMask = find(MASK) != null;
        List<AclEntry> out = new ArrayList<>(entries.size());
        for (AclEntry e : entries) {
            out.add(switch (e.tag()) {
                case USER_OBJ -> e.withPerm(mode >> 6);
                case GROUP_OBJ -> hasMask ? e : e.withPerm(mode >> 3);
                case MASK -> e.withPerm(mode >> 3);
                case OTHER -> e.withPerm(mode);
                default -> e;
            });
        }
        return new Acl(out);
    }

    /** What a new inode gets from its directory's default ACL (posix_acl_create). */
    public record Created(int mode, Acl access) {
    }

    /**
     * posix_acl_create_masq: the new inode's access ACL is this (default) ACL with USER_OBJ,
     * OTHER and MASK (or GROUP_OBJ without a mask) limited by the requested {@code mode}, and
     * the mode is limited by them in turn; the umask is not applied. {@code access} is null when
     * the result is equivalent to the mode.
     */
    public Created createMasked(int mode) {
        int m = mode;
        boolean notEquivalent = false;
        boolean hasMask = find(MASK) != null;
        List<AclEntry> out = new ArrayList<>(entries.size());
        for (AclEntry e : entries) {
            switch (e.tag()) {
                case USER_OBJ -> {
                    int p = e.perm() & (m >> 6);
                    m &= (p << 6) | ~0700;
                    out.add(e.withPerm(p));
                }
                case USER, GROUP -> {
                    notEquivalent = true;
                    out.add(e);
                }
                case OTHER -> {
                    int p = e.perm() & m;
                    m &= p | ~07;
                    out.add(e.withPerm(p));
                }
                default -> out.add(e); // GROUP_OBJ and MASK: below
            }
        }
        int groupTag = hasMask ? MASK : GROUP_OBJ;
        notEquivalent |= hasMask;
        for (int i = 0; i < out.size(); i++) {
            AclEntry e = out.get(i);
            if (e.tag() == groupTag) {
                int p = e.perm() & (m >> 3);
                m &= (p << 3) | ~070;
                out.set(i, e.withPerm(p));
            }
        }
        return new Created(m, notEquivalent ? new Acl(out) : null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Acl a && a.entries.equals(entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (AclEntry e : entries) {
            if (!s.isEmpty()) {
                s.append(',');
            }
            s.append(switch (e.tag()) {
                case USER_OBJ -> "user:";
                case USER -> "user:" + Integer.toUnsignedString(e.id());
                case GROUP_OBJ -> "group:";
                case GROUP -> "group:" + Integer.toUnsignedString(e.id());
                case MASK -> "mask:";
                case OTHER -> "other:";
                default -> "tag" + e.tag() + ":";
            }).append(':').append((e.perm() & 4) != 0 ? 'r' : '-').append((e.perm() & 2) != 0 ? 'w' : '-')
                    .append((e.perm() & 1) != 0 ? 'x' : '-');
        }
        return s.toString();
    }
}
