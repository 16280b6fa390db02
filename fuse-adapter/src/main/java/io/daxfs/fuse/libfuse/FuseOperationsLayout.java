package io.daxfs.fuse.libfuse;

import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.struct.FuseOperations;

import java.lang.reflect.Method;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layout of libfuse 2.9's {@code struct fuse_operations} (FUSE_USE_VERSION 26), computed from
 * its member list for the running platform, and checked against jnr-fuse's {@link FuseOperations}.
 *
 * <p>The C struct is 38 function pointers ({@link #HEAD}), one {@code unsigned int} bitfield unit
 * holding the flags, then 6 function pointers ({@link #TAIL}) that start at the next pointer-aligned
 * offset. On LP64: flags at 304, ioctl 312, flock 344, fallocate 352, size 360.
 *
 * <p>jnr-fuse declares the bitfield as four one-byte paddings (flag_nullpath_ok, flag_nopath,
 * flag_utime_omit_ok, flag_reserved), which occupy the same four bytes, so its later members land
 * where libfuse reads them. But those padding names are misleading: flag_nopath is NOT the byte at
 * flag_nopath's offset; all three flags are bits of the first byte on little-endian machines.
 * Writing {@link #writeFlags} is the only correct way to set them.
 */
public final class FuseOperationsLayout {

    /** Function pointers before the flags, in header order (getdir and utime are deprecated but present). */
    public static final List<String> HEAD = List.of(
            "getattr", "readlink", "getdir", "mknod", "mkdir", "unlink", "rmdir", "symlink",
            "rename", "link", "chmod", "chown", "truncate", "utime", "open", "read", "write",
            "statfs", "flush", "release", "fsync", "setxattr", "getxattr", "listxattr",
            "removexattr", "opendir", "readdir", "releasedir", "fsyncdir", "init", "destroy",
            "access", "create", "ftruncate", "fgetattr", "lock", "utimens", "bmap");

    /** Function pointers after the flags, in header order. */
    public static final List<String> TAIL = List.of(
            "ioctl", "poll", "write_buf", "read_buf", "flock", "fallocate");

    /** sizeof(unsigned int): the bitfield's storage unit. */
    private static final int FLAGS_UNIT_SIZE = 4;
    private static final int FLAGS_MASK = flagMask(EnumSet.allOf(FuseOperationFlag.class));

    private final int pointerSize;
    private final Map<String, Long> functionOffsets;
    private final long flagsOffset;
    private final long size;

    private FuseOperationsLayout(int pointerSize) {
        this.pointerSize = pointerSize;
        Map<String, Long> offsets = new LinkedHashMap<>();
        long offset = 0;
        for (String name : HEAD) {
            offsets.put(name, offset);
            offset += pointerSize;
        }
        flagsOffset = offset;
        offset = alignUp(flagsOffset + FLAGS_UNIT_SIZE, pointerSize);
        for (String name : TAIL) {
            offsets.put(name, offset);
            offset += pointerSize;
        }
        functionOffsets = Map.copyOf(offsets);
        size = offset; // already pointer-aligned: the struct's alignment is the pointer's
    }

    /** The layout for the platform this JVM runs on. */
    public static FuseOperationsLayout forCurrentPlatform() {
        return new FuseOperationsLayout(Runtime.getSystemRuntime().addressSize());
    }

    /** Byte offset of a function-pointer member, by its C name. */
    public long offsetOf(String member) {
        Long offset = functionOffsets.get(member);
        if (offset == null) {
            throw new IllegalArgumentException("no function pointer named " + member);
        }
        return offset;
    }

    /** Byte offset of the unsigned int that holds flag_nullpath_ok .. flag_reserved. */
    public long flagsOffset() {
        return flagsOffset;
    }

    /** sizeof(struct fuse_operations). */
    public long size() {
        return size;
    }

    public int pointerSize() {
        return pointerSize;
    }

    /**
     * Checks that every member of jnr-fuse's struct is where libfuse reads it, and that the struct
     * has libfuse's size. Throws with the list of mismatches otherwise: a shifted layout would make
     * libfuse call, say, read_buf's closure for flock, so it must never be mounted.
     */
    public void verify(FuseOperations ops) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Long> e : functionOffsets.entrySet()) {
            long actual = memberOffset(ops, e.getKey());
            if (actual != e.getValue()) {
                problems.add(e.getKey() + " at " + actual + ", libfuse expects " + e.getValue());
            }
        }
        long flags = memberOffset(ops, "flag_nullpath_ok");
        if (flags != flagsOffset) {
            problems.add("flags word at " + flags + ", libfuse expects " + flagsOffset);
        }
        if (Struct.size(ops) != size) {
            problems.add("size " + Struct.size(ops) + ", libfuse expects " + size);
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(
                    "jnr-fuse's FuseOperations does not match libfuse 2.9's struct fuse_operations: " + problems);
        }
    }

    /**
     * Sets exactly {@code flags} in the flags word of a {@code struct fuse_operations} at
     * {@code ops}, keeping the reserved bits as they are. Bitfields are allocated from the least
     * significant bit on little-endian ABIs (x86-64, aarch64) and from the most significant on
     * big-endian ones.
     */
    public void writeFlags(Pointer ops, Set<FuseOperationFlag> flags) {
        int word = ops.getInt(flagsOffset);
        word = (word & ~FLAGS_MASK) | flagMask(flags);
        ops.putInt(flagsOffset, word);
    }

    /** Reads back the flags set in the struct at {@code ops}. */
    public Set<FuseOperationFlag> readFlags(Pointer ops) {
        int word = ops.getInt(flagsOffset);
        Set<FuseOperationFlag> result = EnumSet.noneOf(FuseOperationFlag.class);
        for (FuseOperationFlag flag : FuseOperationFlag.values()) {
            if ((word & bitMask(flag)) != 0) {
                result.add(flag);
            }
        }
        return result;
    }

    /** Convenience: sets the flags in jnr-fuse's own struct memory (also works before a stock mount). */
    public void writeFlags(FuseOperations ops, Set<FuseOperationFlag> flags) {
        verify(ops);
        writeFlags(Struct.getMemory(ops), flags);
    }

    private static int flagMask(Set<FuseOperationFlag> flags) {
        int mask = 0;
        for (FuseOperationFlag flag : flags) {
            mask |= bitMask(flag);
        }
        return mask;
    }

    private static int bitMask(FuseOperationFlag flag) {
        int unitBits = FLAGS_UNIT_SIZE * Byte.SIZE;
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                ? 1 << flag.bit
                : 1 << (unitBits - 1 - flag.bit);
    }

    /**
     * jnr-ffi's Struct.AbstractMember (which declares offset()) is a protected nested class, so the
     * offset of a member such as jnr-fuse's Padding can only be read reflectively.
     */
    private static long memberOffset(FuseOperations ops, String name) {
        try {
            Object member = FuseOperations.class.getField(name).get(ops);
            return (long) MEMBER_OFFSET.invoke(member);
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("jnr-fuse's FuseOperations has no member " + name, e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read offset of FuseOperations." + name, e);
        }
    }

    private static final Method MEMBER_OFFSET = memberOffsetMethod();

    private static Method memberOffsetMethod() {
        try {
            Method m = Class.forName("jnr.ffi.Struct$AbstractMember").getMethod("offset");
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }
}
