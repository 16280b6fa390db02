package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The libfuse front end serves no leases: its ioctls are ENOTTY (docs/compatibility.md). */
class LeaseLibfuseTest {
    @Test
    void theLibfuseFrontEndRefusesLeases() throws IOException {
        assumeTrue(!DaxfsMount.kernelFrontend(), "the libfuse front end's answer (LeaseTest covers the kernel's)");
        try (DaxfsMount m = DaxfsMount.mounted("64M")) {
            Files.write(m.path("f"), Daxfs.random(13, 4096));
            Daxfs.Result r = Daxfs.daxfs("lease", m.path("f").toString());
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.err().contains("ENOTTY"), r.toString());
            Daxfs.Result stat = Daxfs.daxfs("stat", m.mnt.toString());
            assertEquals(1, stat.exit(), "no statistics either: " + stat);
            assertTrue(stat.err().contains("frontend=libfuse"), stat.toString());
        }
    }
}
