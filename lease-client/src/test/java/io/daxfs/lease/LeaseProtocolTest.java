package io.daxfs.lease;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The protocol's numbers as C and Python spell them (docs/leases.md). */
class LeaseProtocolTest {
    @TempDir
    Path tmp;

    @Test
    void ioctlNumbersAreWhatCsIowrMakes() throws Exception {
        StringBuilder c = new StringBuilder("#include <linux/ioctl.h>\n#include <stdio.h>\nint main(void) {\n");
        for (int cmd = 1; cmd <= LeaseProtocol.LAST_COMMAND; cmd++) {
            c.append("  printf(\"%u\\n\", (unsigned) _IOWR(0xDA, ").append(cmd).append(", char[4096]));\n");
        }
        c.append("  return 0;\n}\n");
        Files.writeString(tmp.resolve("ioc.c"), c);
        Process gcc = new ProcessBuilder("gcc", "-o", "ioc", "ioc.c").directory(tmp.toFile()).inheritIO().start();
        assumeTrue(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0, "gcc could not compile the probe");
        Process run = new ProcessBuilder("./ioc").directory(tmp.toFile()).start();
        String[] lines = new String(run.getInputStream().readAllBytes()).strip().split("\n");
        run.waitFor();
        for (int cmd = 1; cmd <= LeaseProtocol.LAST_COMMAND; cmd++) {
            assertEquals(Long.parseLong(lines[cmd - 1]), Integer.toUnsignedLong(LeaseProtocol.ioctlNumber(cmd)), "command " + cmd);
            assertEquals(cmd, LeaseProtocol.commandOf(LeaseProtocol.ioctlNumber(cmd)));
        }
    }

    @Test
    void layoutFitsTheMessage() {
        assertEquals(168, LeaseProtocol.MAX_PIECES);
        int used = LeaseProtocol.LR_PIECES + LeaseProtocol.MAX_PIECES * LeaseProtocol.PIECE_SIZE;
        assertEquals(4088, used, "fits, and one more piece would not");
        assertEquals(64, LeaseProtocol.listRecordLength(0));
        assertEquals(72, LeaseProtocol.listRecordLength(1));
        assertEquals(0x46584144, LeaseProtocol.MAGIC, "\"DAXF\" little-endian");
    }
}
