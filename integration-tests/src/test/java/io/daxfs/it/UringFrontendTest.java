package io.daxfs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The io_uring front end itself, in the run of the suite that uses it
 * ({@code -Ddaxfs.it.frontend=uring}): the mount serves through one ring queue per CPU, and
 * each queue takes the requests of the processes running on its CPU. (Enabling:
 * {@link UringEnablingTest}.) The ring's set-up and per-queue totals are DEBUG lines, so the
 * mount runs with {@code -o debug}.
 */
@EnabledIfSystemProperty(named = "daxfs.it.frontend", matches = "uring")
@MountedDaxfs(scope = MountedDaxfs.Scope.TEST, options = "debug")
class UringFrontendTest {
    private static final Pattern SERVED = Pattern.compile("FUSE over io_uring served (\\d+) requests \\((.*)\\)");
    private static final Pattern QUEUE = Pattern.compile("queue (\\d+): (\\d+)");

    private DaxfsMount m;

    /** Creates, writes, reads, stats and unlinks files; run pinned to one CPU. */
    private static final String WORK = """
            import os, sys
            d = sys.argv[1]
            os.makedirs(d)
            for i in range(300):
                p = os.path.join(d, 'f%d' % i)
                with open(p, 'wb') as f:
                    f.write(b'x' * 5000)
                with open(p, 'rb') as f:
                    assert f.read() == b'x' * 5000
                os.stat(p)
                os.unlink(p)
            os.rmdir(d)
            """;

    @Test
    void eachCpusQueueServesTheProcessesRunningOnIt() throws IOException {
        List<Integer> cpus = cpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")).strip());
        for (int cpu : cpus) {
            shOk("taskset -c " + cpu + " " + Daxfs.PYTHON + " -c " + q(WORK) + " " + q(m.path("cpu" + cpu)));
        }
        m.umount();
        String log = m.logText();
        int possible = cpuList(Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip()).size();
        assertTrue(log.contains("FUSE over io_uring: " + possible + " queues (one per CPU, threads pinned)"), log);
        Matcher served = SERVED.matcher(log);
        assertTrue(served.find(), "the daemon reports what the rings served at unmount:\n" + log);
        Map<Integer, Long> perQueue = new HashMap<>();
        Matcher q = QUEUE.matcher(served.group(2));
        while (q.find()) {
            perQueue.put(Integer.parseInt(q.group(1)), Long.parseLong(q.group(2)));
        }
        assertEquals(possible, perQueue.size(), served.group());
        for (int cpu : cpus) {
            // 300 files: at least a create, a write, an open and a read, a lookup and an unlink each
            assertTrue(perQueue.get(cpu) >= 6 * 300, "queue " + cpu + " served the process pinned to CPU " + cpu
                    + ": " + served.group());
        }
    }

    /** CPUs of a sysfs list ("0-3,6"). */
    static List<Integer> cpuList(String list) {
        List<Integer> out = new ArrayList<>();
        for (String part : list.split(",")) {
            int dash = part.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
            for (int c = from; c <= to; c++) {
                out.add(c);
            }
        }
        return out;
    }
}
