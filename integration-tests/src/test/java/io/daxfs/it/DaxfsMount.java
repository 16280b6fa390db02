package io.daxfs.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.daxfs.it.Daxfs.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * One daxfs under test: a fresh directory under /tmp holding a sparse image ({@code image}),
 * a mount point ({@code mnt}) and the daemon log ({@code daemon.log}); the image is made with
 * {@code daxfs mkfs} and mounted with {@code daxfs mount}, both as separate processes, exactly
 * as a user runs them.
 *
 * <p>{@link #close()} always cleans up, whatever state a failed test left: every mount under
 * the directory is lazily unmounted ({@code fusermount -u -z}), every daemon this fixture
 * started is killed, and the directory is deleted. A JVM shutdown hook does the same for
 * fixtures a crashed test run never closed. Close then fails the test if the daemon logged an
 * internal error (an operation that failed with an unexpected exception, reported as EIO).
 */
final class DaxfsMount implements AutoCloseable {
    static final String DEFAULT_SIZE = "256M";
    /**
     * The front end every mount of the run uses: {@code kernel} (the default) or {@code libfuse}
     * (-Ddaxfs.it.frontend=libfuse; the build runs the suite once with each).
     */
    static final String FRONTEND = System.getProperty("daxfs.it.frontend", "kernel");

    /**
     * Whether this run mounts with daxfs's own FUSE protocol implementation (not libfuse 2's):
     * the kernel front end, over /dev/fuse or over io_uring.
     */
    static boolean kernelFrontend() {
        return FRONTEND.equals("kernel") || uringFrontend();
    }

    /** Whether this run mounts with the io_uring front end ({@code frontend=uring}). */
    static boolean uringFrontend() {
        return FRONTEND.equals("uring");
    }

    /** The mount option that selects this run's front end. */
    static String frontendOption() {
        return "frontend=" + FRONTEND;
    }
    private static final Pattern DAEMON_PID = Pattern.compile("daemon pid (\\d+)");
    private static final Set<DaxfsMount> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (DaxfsMount m : OPEN) {
                m.cleanUp();
            }
        }, "daxfs-it-cleanup"));
    }

    final Path dir;
    final Path image;
    final Path mnt;
    final Path log;
    /**
     * The daemons this fixture started and has not seen exit, by pid. A ProcessHandle taken while
     * the daemon runs knows its start time, so it never signals a later process that got the
     * same pid (pids wrap quickly on a busy machine: a soak starts thousands of processes).
     */
    private final Map<Long, ProcessHandle> daemons = new ConcurrentHashMap<>();
    private volatile long pid = -1;
    private int extraLogs;
    private int logChecked;
    private volatile boolean tmpfs;

    private DaxfsMount(Path dir) {
        this.dir = dir;
        this.image = dir.resolve("image");
        this.mnt = dir.resolve("mnt");
        this.log = dir.resolve("daemon.log");
    }

    /** Requirements of every integration test: root and /dev/fuse. */
    static void assumeFuse() {
        assumeTrue("root".equals(System.getProperty("user.name")),
                "integration tests mount file systems: run them as root");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse on this machine");
        if (uringFrontend()) {
            assumeTrue(UringParameter.value() != null,
                    "this kernel has no FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING): no frontend=uring run");
            UringParameter.setUpForRun();
        }
    }

    /**
     * A fresh directory with an empty mount point and no image yet. The directory is a tmpfs
     * of its own (unless -Ddaxfs.it.tmpfs=false): daxfs makes each metadata change durable with
     * msync, which costs milliseconds on a disk and nothing in RAM, and the whole suite has to
     * run in a few minutes. Durability across a killed daemon does not depend on it: the image's
     * pages live in the page cache either way.
     */
    static DaxfsMount empty() {
        return empty("");
    }

    /**
     * As {@link #empty()}, the tmpfs mounted with {@code tmpfsOptions} added (e.g.
     * {@code huge=within_size}); a test that needs them is skipped under -Ddaxfs.it.tmpfs=false.
     */
    static DaxfsMount empty(String tmpfsOptions) {
        assumeFuse();
        assumeTrue(tmpfsOptions.isEmpty() || Boolean.parseBoolean(System.getProperty("daxfs.it.tmpfs", "true")),
                "tmpfs options " + tmpfsOptions + " asked, but -Ddaxfs.it.tmpfs=false");
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "daxfs-it-").toRealPath();
            // Readable by all: one test runs daxfs as user nobody in here.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            DaxfsMount m = new DaxfsMount(dir);
            OPEN.add(m);
            try {
                if (Boolean.parseBoolean(System.getProperty("daxfs.it.tmpfs", "true"))) {
                    m.tmpfs = true;
                    Daxfs.sh("mount -t tmpfs -o size=4g,mode=0755" + (tmpfsOptions.isEmpty() ? "" : "," + tmpfsOptions)
                            + " daxfs-it " + q(dir)).expectSuccess();
                }
                Files.createDirectory(m.mnt);
                return m;
            } catch (IOException | RuntimeException | Error e) {
                m.cleanUp();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** mkfs of a 256 MiB sparse image, then mount. */
    static DaxfsMount mounted() {
        return mounted(DEFAULT_SIZE);
    }

    /** mkfs of a sparse image of {@code size} (plus extra mkfs arguments), then mount. */
    static DaxfsMount mounted(String size, String... mkfsArgs) {
        DaxfsMount m = empty();
        try {
            m.mkfs(size, mkfsArgs);
            m.mount();
            return m;
        } catch (RuntimeException | Error e) {
            m.cleanUp();
            throw e;
        }
    }

    /** {@code daxfs mkfs image --size SIZE ...}; fails the test if it fails. */
    void mkfs(String size, String... extra) {
        List<String> args = new ArrayList<>(List.of("mkfs", image.toString(), "--size", size));
        args.addAll(List.of(extra));
        Daxfs.daxfs(args.toArray(String[]::new)).expectSuccess();
    }

    Path path(String relative) {
        return mnt.resolve(relative);
    }

    /** Whether a mount made by this fixture is up (not unmounted, killed or never made). */
    boolean isMounted() {
        return pid >= 0;
    }

    /** The daemon serving the current mount. */
    long pid() {
        if (pid < 0) {
            fail("not mounted");
        }
        return pid;
    }

    /** {@code daxfs mount image mnt --log daemon.log}; fails the test unless it mounts. */
    void mount(String... options) {
        List<String> args = new ArrayList<>(List.of("mount", image.toString(), mnt.toString(), "--log", log.toString(),
                "-o", frontendOption()));
        for (String o : options) {
            args.add("-o");
            args.add(o);
        }
        Daxfs.Result r = Daxfs.daxfs(args.toArray(String[]::new));
        long p = recordDaemon(r);
        if (!r.ok() || p < 0) {
            fail("mount failed: " + r + "\n  daemon log:\n" + logText());
        }
        pid = p;
        assertTrue(daemon(p).map(ProcessHandle::isAlive).orElse(false), "daemon " + p + " is not running");
        assertEquals("fuse.daxfs", mountType(mnt).orElse("(not mounted)"), "type of the mount at " + mnt);
    }

    /**
     * Mounts the way {@code mount -t fuse.daxfs image mnt -o OPTIONS} does: mount(8) runs the
     * helper {@code scripts/mount.fuse.daxfs image mnt -o rw,OPTIONS} (it adds rw or ro and
     * passes the generic VFS flags such as noatime or relatime along); fails unless it mounts.
     */
    void mountWithHelper(String options) {
        Path helper = Path.of(System.getProperty("daxfs.root", "..")).resolve("scripts/mount.fuse.daxfs").toAbsolutePath();
        // -v: the helper is silent on success otherwise; verbose, it passes on daxfs mount's
        // "daxfs: mounted ... (daemon pid N ...)" line, which tells the daemon's pid.
        Daxfs.Result r = Daxfs.exec(List.of("/usr/bin/env", "DAXFS_NO_BUILD=1", helper.toString(), "-v", image.toString(),
                mnt.toString(), "-o", options.isEmpty() ? frontendOption() : options + "," + frontendOption()));
        long p = recordDaemon(r);
        if (!r.ok() || p < 0) {
            fail("mount through the helper failed: " + r);
        }
        pid = p;
        assertEquals("fuse.daxfs", mountType(mnt).orElse("(not mounted)"), "type of the mount at " + mnt);
    }

    /**
     * Runs {@code daxfs mount TARGET DIR} for a test that expects it to fail; if it mounts
     * after all, the daemon is recorded so that close() cleans it up.
     */
    Daxfs.Result tryMount(Path target, Path at, String... options) {
        Path otherLog = dir.resolve("mount-attempt-" + (++extraLogs) + ".log");
        List<String> args = new ArrayList<>(List.of("mount", target.toString(), at.toString(), "--log",
                otherLog.toString(), "-o", frontendOption()));
        for (String o : options) {
            args.add("-o");
            args.add(o);
        }
        Daxfs.Result r = Daxfs.daxfs(args.toArray(String[]::new));
        long p = recordDaemon(r);
        if (r.ok() && p >= 0 && at.equals(mnt)) {
            pid = p; // mounted after all: umount() and close() take it down
        }
        return r;
    }

    private long recordDaemon(Daxfs.Result r) {
        Matcher m = DAEMON_PID.matcher(r.out());
        if (!m.find()) {
            return -1;
        }
        long p = Long.parseLong(m.group(1));
        ProcessHandle.of(p).ifPresent(h -> daemons.put(p, h));
        return p;
    }

    /** {@code umount mnt}, then waits for the daemon to exit (releasing the image). */
    void umount() {
        long p = pid();
        Daxfs.sh("umount " + q(mnt)).expectSuccess();
        awaitExit(p, "after umount");
        pid = -1;
        assertTrue(mountType(mnt).isEmpty(), mnt + " is still mounted after umount");
    }

    /** SIGKILL to the daemon, then {@code fusermount -u} of the dead mount. */
    void kill9() {
        killDaemon();
        fusermountU();
    }

    /** SIGKILL to the daemon; waits until it is gone. The mount stays, dead. */
    void killDaemon() {
        long p = pid();
        daemon(p).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL on Linux
        awaitExit(p, "after SIGKILL");
        pid = -1;
    }

    /** The daemon exited by itself (after a lazy unmount and the last close): nothing is mounted. */
    void forgetDaemon() {
        pid = -1;
    }

    /** {@code fusermount -u mnt}. */
    void fusermountU() {
        Daxfs.sh("fusermount -u " + q(mnt)).expectSuccess();
        assertTrue(mountType(mnt).isEmpty(), mnt + " is still mounted after fusermount -u");
    }

    /**
     * Mounts with {@code options} unless the daemon is serving: for a class that shares one
     * mount, after a test that left it unmounted (or killed).
     */
    void ensureMounted(String... options) {
        if (pid >= 0 && daemon(pid).map(ProcessHandle::isAlive).orElse(false)
                && mountType(mnt).isPresent()) {
            return;
        }
        if (mountType(mnt).isPresent()) {
            Daxfs.sh("fusermount -u -z " + q(mnt));
        }
        if (pid >= 0) {
            daemon(pid).ifPresent(ProcessHandle::destroyForcibly);
            awaitExit(pid, "after SIGKILL");
            pid = -1;
        }
        mount(options);
    }

    void remount() {
        umount();
        mount();
    }

    /** {@code daxfs fsck image}. */
    Daxfs.Result fsck() {
        return Daxfs.daxfs("fsck", image.toString());
    }

    /** fsck, failing the test unless it reports a clean file system (exit 0). */
    void fsckClean() {
        Daxfs.Result r = fsck();
        assertEquals(0, r.exit(), "fsck of " + image + ": " + r);
    }

    String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    private Optional<ProcessHandle> daemon(long p) {
        return Optional.ofNullable(daemons.get(p));
    }

    /**
     * Waits until daemon {@code p} has exited: gone, or a zombie (it has closed its files, the
     * image and /dev/fuse, and released its memory; only its exit status waits for init, which
     * may take a second here to collect it: ProcessHandle.onExit would wait for that too).
     */
    private void awaitExit(long p, String when) {
        ProcessHandle h = daemons.get(p);
        if (h == null) {
            return;
        }
        if (!awaitExitOrZombie(h, TimeUnit.SECONDS.toNanos(Daxfs.PROCESS_LIMIT_SECONDS))) {
            fail("daemon " + p + " did not exit " + when + "\n  daemon log:\n" + logText());
        }
        daemons.remove(p);
    }

    private static boolean awaitExitOrZombie(ProcessHandle h, long nanos) {
        long deadline = System.nanoTime() + nanos;
        // isAlive checks the start time too: once the pid belongs to another process it is false.
        while (h.isAlive() && !zombie(h.pid())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Whether /proc says process {@code p} is gone or a zombie whose threads have all exited
     * (the group leader turns zombie first and waits for the other threads; the files they share,
     * /dev/fuse among them, are closed only when the last one exits).
     */
    private static boolean zombie(long p) {
        try {
            List<String> status = Files.readAllLines(Path.of("/proc/" + p + "/status"));
            boolean z = status.stream().anyMatch(l -> l.matches("State:\\s*Z.*"));
            boolean oneThread = status.stream().anyMatch(l -> l.matches("Threads:\\s*[01]"));
            return z && oneThread;
        } catch (IOException e) {
            return true;
        }
    }

    /** The type of the file system mounted exactly at {@code dir}, per /proc/self/mountinfo. */
    static Optional<String> mountType(Path dir) {
        String want = dir.toAbsolutePath().normalize().toString();
        String type = null;
        for (String[] m : mountinfo()) {
            if (m[0].equals(want)) {
                type = m[1]; // the last one listed is on top
            }
        }
        return Optional.ofNullable(type);
    }

    /** (mount point, type, source) of every mount. */
    static List<String[]> mountinfo() {
        List<String[]> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                int dash = 6;
                while (dash < f.length && !f[dash].equals("-")) {
                    dash++;
                }
                out.add(new String[] {unescape(f[4]), f[dash + 1], unescape(f[dash + 2])});
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private List<String> mountsUnderDir() {
        String prefix = dir + "/";
        return mountinfo().stream().map(m -> m[0]).filter(p -> p.startsWith(prefix))
                .sorted(Comparator.comparingInt(String::length).reversed()).distinct().toList();
    }

    /**
     * Cleans up (see the class comment), then fails if the daemon logged an internal error
     * not reported yet.
     */
    @Override
    public void close() {
        String logged = logText();
        cleanUp();
        List<String> errors = errorLines(logged.substring(Math.min(logChecked, logged.length())));
        if (!errors.isEmpty()) {
            fail("the daxfs daemon logged internal errors:\n" + String.join("\n", errors));
        }
    }

    /**
     * Fails if the daemon logged an internal error (an unexpected exception in an operation,
     * which the caller saw as EIO) since the last check.
     */
    void assertNoDaemonErrors() {
        String logged = logText();
        int from = Math.min(logChecked, logged.length());
        logChecked = logged.length();
        List<String> errors = errorLines(logged.substring(from));
        if (!errors.isEmpty()) {
            fail("the daxfs daemon logged internal errors:\n" + String.join("\n", errors));
        }
    }

    private static List<String> errorLines(String log) {
        return log.lines().filter(l -> l.contains(" ERROR ") || l.contains("Exception") || l.contains("\tat "))
                .limit(40).toList();
    }

    /** Idempotent; never throws. */
    synchronized void cleanUp() {
        if (!OPEN.remove(this)) {
            return;
        }
        for (String m : mountsUnderDir()) {
            Daxfs.Result r = Daxfs.sh("fusermount -u -z " + q(m));
            if (!r.ok()) {
                Daxfs.sh("umount -l " + q(m));
            }
        }
        for (ProcessHandle h : daemons.values()) {
            if (h.isAlive()) {
                h.destroyForcibly();
                awaitExitOrZombie(h, TimeUnit.SECONDS.toNanos(30));
            }
        }
        daemons.clear();
        if (!mountsUnderDir().isEmpty()) {
            System.err.println("daxfs-it: not deleting " + dir + ": still has mounts " + mountsUnderDir());
            return;
        }
        if (tmpfs && mountType(dir).isPresent()) {
            if (!Daxfs.sh("umount " + q(dir)).ok()) {
                Daxfs.sh("umount -l " + q(dir));
            }
        }
        if (mountType(dir).isPresent()) {
            System.err.println("daxfs-it: not deleting " + dir + ": it is still a mount point");
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("daxfs-it: could not delete " + dir + ": " + e);
        }
    }
}
