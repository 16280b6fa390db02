package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.MountSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * fio random 4 KiB reads against the same in-memory file served by jnr-fuse's stock multithreaded
 * mount and by {@link FuseSessionLoop} with 4 threads. Opt-in: mvn test -Dtest=FuseLoopBenchmarkTest
 * -Ddaxfs.bench=true. Results go to stdout and target/fuse-bench.txt.
 */
@EnabledIfSystemProperty(named = "daxfs.bench", matches = "true")
class FuseLoopBenchmarkTest {
    static final int FILE_SIZE = 64 << 20;
    static final String[] OPTIONS = {"-o", "big_writes,max_write=131072,fsname=bench,subtype=daxfs"};
    static final String FIO = "fio --name=r --rw=randread --bs=4k --size=64m --numjobs=4 --time_based"
            + " --runtime=5 --ioengine=psync --group_reporting --readonly --output-format=json --filename=big";
    static final Pattern READ_IOPS = Pattern.compile("\"read\"\\s*:\\s*\\{.*?\"iops\"\\s*:\\s*([0-9.]+)", Pattern.DOTALL);

    @TempDir
    Path tmp;

    @Test
    void stockVersusSessionLoop() throws Exception {
        Path mnt = Files.createDirectory(tmp.resolve("mnt")).toRealPath();
        List<String> report = new ArrayList<>();
        for (String variant : List.of("", " --direct=1")) {
            for (int round = 1; round <= 3; round++) {
                MemoryTestFs stockFs = new MemoryTestFs(FILE_SIZE);
                double stock = stock(stockFs, mnt, variant);
                MemoryTestFs loopFs = new MemoryTestFs(FILE_SIZE);
                double loop = loop(loopFs, mnt, variant);
                report.add(String.format("fio%s round %d: stock %.0f IOPS, loop(4) %.0f IOPS, ratio %.2f"
                                + " (FUSE read callbacks per second: stock %d, loop %d)",
                        variant.isEmpty() ? " (buffered)" : variant, round, stock, loop, loop / stock,
                        stockFs.readCalls.sum() / 5, loopFs.readCalls.sum() / 5));
            }
        }
        report.forEach(System.out::println);
        Files.write(Path.of("target", "fuse-bench.txt"), report);
    }

    private double stock(MemoryTestFs fs, Path mnt, String variant) throws Exception {
        fs.mount(mnt, false, false, OPTIONS); // returns after its 2 s "did it fail?" wait
        try {
            assertTrue(Shell.isMounted(mnt));
            return fio(mnt, variant);
        } finally {
            fs.umount(); // fusermount -u -z, asynchronously
            awaitUnmounted(mnt);
        }
    }

    private double loop(MemoryTestFs fs, Path mnt, String variant) throws Exception {
        try (MountSession loop = FuseSessionLoop.builder(fs, mnt).options(OPTIONS).threads(4).mount()) {
            assertTrue(loop.awaitReady(Duration.ofSeconds(10)));
            return fio(mnt, variant);
        }
    }

    private static double fio(Path mnt, String variant) throws InterruptedException {
        awaitNoOtherFio();
        String json = Shell.run(mnt, FIO + variant).ok().stdout();
        Matcher m = READ_IOPS.matcher(json);
        assertTrue(m.find(), json);
        return Double.parseDouble(m.group(1));
    }

    /** The machine may be shared: do not measure while someone else's fio competes for the 2 cores. */
    private static void awaitNoOtherFio() throws InterruptedException {
        for (int i = 0; i < 600 && Shell.run(Path.of("/"), "pgrep -x fio").exitCode() == 0; i++) {
            Thread.sleep(500);
        }
    }

    private static void awaitUnmounted(Path mnt) throws InterruptedException {
        for (int i = 0; i < 100 && Shell.isMounted(mnt); i++) {
            Thread.sleep(100);
        }
        if (Shell.isMounted(mnt)) {
            Shell.run(mnt.getParent(), "umount -l '" + mnt + "'");
        }
        assertFalse(Shell.isMounted(mnt));
    }
}
