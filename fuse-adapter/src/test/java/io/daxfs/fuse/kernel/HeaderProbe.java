package io.daxfs.fuse.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks the numbers the Java side claims against what gcc makes of the installed C headers:
 * a program printing every claimed C expression is compiled in a scratch directory and run,
 * and each claim must equal its line. Skipped (an assumption) where gcc cannot build it.
 */
final class HeaderProbe {
    private HeaderProbe() {
    }

    /**
     * @param dir      a scratch directory (a JUnit {@code @TempDir})
     * @param preamble the includes and definitions before {@code main}
     * @param claims   C expression to the value the Java code holds for it
     */
    static void assertClaims(Path dir, String preamble, Map<String, Long> claims) throws Exception {
        StringBuilder c = new StringBuilder(preamble).append("int main(void) {\n");
        int i = 0;
        for (String expr : claims.keySet()) {
            c.append("  printf(\"%d %lld\\n\", ").append(i++).append(", (long long) (").append(expr).append("));\n");
        }
        c.append("  return 0;\n}\n");
        Files.writeString(dir.resolve("abi.c"), c);
        Process gcc = new ProcessBuilder("gcc", "-o", "abi", "abi.c").directory(dir.toFile()).inheritIO().start();
        assumeTrue(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0, "gcc could not compile the probe");
        Process run = new ProcessBuilder("./abi").directory(dir.toFile()).start();
        String out = new String(run.getInputStream().readAllBytes());
        run.waitFor();
        Map<Integer, Long> truth = new HashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] kv = line.split(" ");
            truth.put(Integer.parseInt(kv[0]), Long.parseLong(kv[1]));
        }
        i = 0;
        for (Map.Entry<String, Long> e : claims.entrySet()) {
            assertEquals(truth.get(i++), e.getValue(), e.getKey());
        }
    }
}
