package io.daxfs.fuse.libfuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ru.serce.jnrfuse.struct.FuseOperations;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FuseOperationsLayoutTest {
    final FuseOperationsLayout layout = FuseOperationsLayout.forCurrentPlatform();

    @TempDir
    Path tmp;

    @Test
    void jnrFuseStructMatchesLibfuse() {
        layout.verify(new FuseOperations(Runtime.getSystemRuntime())); // throws on any mismatch
    }

    @Test
    void lp64Offsets() {
        assumeTrue(layout.pointerSize() == 8);
        assertEquals(296, layout.offsetOf("bmap"));
        assertEquals(304, layout.flagsOffset());
        assertEquals(312, layout.offsetOf("ioctl"));
        assertEquals(344, layout.offsetOf("flock"));
        assertEquals(352, layout.offsetOf("fallocate"));
        assertEquals(360, layout.size());
    }

    @Test
    void flagsAreBitsOfOneWordAndKeepReservedBits() {
        Pointer p = Memory.allocateDirect(Runtime.getSystemRuntime(), (int) layout.size(), true);
        long off = layout.flagsOffset();
        p.putInt(off, 0x100); // a reserved bit
        layout.writeFlags(p, EnumSet.of(FuseOperationFlag.NOPATH, FuseOperationFlag.UTIME_OMIT_OK));
        assertEquals(Set.of(FuseOperationFlag.NOPATH, FuseOperationFlag.UTIME_OMIT_OK), layout.readFlags(p));
        assertEquals(0x106, p.getInt(off)); // little-endian x86-64: bits 1 and 2 of byte 304
        layout.writeFlags(p, EnumSet.noneOf(FuseOperationFlag.class));
        assertEquals(0x100, p.getInt(off));
    }

    /** The ground truth: offsets and flag bits as the C compiler lays out the real header. */
    @Test
    void matchesTheInstalledHeader() throws Exception {
        assumeTrue(Files.exists(Path.of("/usr/include/fuse/fuse.h")), "libfuse-dev not installed");
        assumeTrue(Shell.run(tmp, "command -v gcc").exitCode() == 0, "no gcc");
        StringBuilder c = new StringBuilder("""
                #define FUSE_USE_VERSION 26
                #define _FILE_OFFSET_BITS 64
                #include <fuse.h>
                #include <stddef.h>
                #include <stdio.h>
                #include <string.h>
                static void flag(const char *name, struct fuse_operations *o) {
                  const unsigned char *b = (const unsigned char *) o;
                  for (size_t i = 0; i < sizeof *o; i++) if (b[i]) printf("%s %zu %u\\n", name, i, b[i]);
                  memset(o, 0, sizeof *o);
                }
                int main(void) {
                  struct fuse_operations o; memset(&o, 0, sizeof o);
                  printf("size %zu\\n", sizeof o);
                """);
        List<String> members = new ArrayList<>(FuseOperationsLayout.HEAD);
        members.addAll(FuseOperationsLayout.TAIL);
        for (String m : members) {
            c.append("  printf(\"").append(m).append(" %zu\\n\", offsetof(struct fuse_operations, ")
                    .append(m).append("));\n");
        }
        c.append("""
                  o.flag_nullpath_ok = 1; flag("NULLPATH_OK", &o);
                  o.flag_nopath = 1; flag("NOPATH", &o);
                  o.flag_utime_omit_ok = 1; flag("UTIME_OMIT_OK", &o);
                  return 0;
                }
                """);
        Files.writeString(tmp.resolve("layout.c"), c);
        Shell.run(tmp, "gcc -I/usr/include/fuse -o layout layout.c").ok();
        Map<String, String> truth = new HashMap<>();
        for (String line : Shell.run(tmp, "./layout").ok().stdout().split("\n")) {
            String[] kv = line.split(" ", 2);
            truth.put(kv[0], kv[1]);
        }

        assertEquals(Long.toString(layout.size()), truth.get("size"));
        for (String m : members) {
            assertEquals(Long.toString(layout.offsetOf(m)), truth.get(m), m);
        }
        for (FuseOperationFlag f : FuseOperationFlag.values()) {
            Pointer p = Memory.allocateDirect(Runtime.getSystemRuntime(), (int) layout.size(), true);
            layout.writeFlags(p, EnumSet.of(f));
            byte[] bytes = new byte[(int) layout.size()];
            p.get(0, bytes, 0, bytes.length);
            StringBuilder ours = new StringBuilder();
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] != 0) {
                    ours.append(i).append(' ').append(bytes[i] & 0xff);
                }
            }
            assertEquals(truth.get(f.name()), ours.toString(), f.name());
        }
    }
}
