package io.daxfs.fuse.cli;

import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.devdax.DeviceException;
import io.daxfs.fuse.MountDaemon;
import io.daxfs.fuse.options.MountOptions;
import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountTable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Mounts. Without --foreground it checks what it can (mount point, device, superblock),
 * starts the daemon as a detached process in its own session, and returns once the mount is
 * live - or fails with the daemon's own error message if the daemon exits first.
 */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = "Mount the daxfs on TARGET at DIR. Returns once the mount is live; the daemon keeps running "
                + "detached until `umount DIR` or `fusermount -u DIR`.")
final class MountCommand implements Callable<Integer> {
    static final long READY_TIMEOUT_MS = 60_000;
    /**
     * Daemon JVM options unless the user passes -Xmx (DAXFS_JAVA_OPTS in scripts/daxfs): a small
     * heap start and the serial collector. The JIT is left tiered, C1 then C2: a served request
     * runs its Java code cold (the caller and the kernel ran in between), and C2's code is what
     * makes it short: warm small-file creates 1.2-2.6x and unlinks 1.5-3.9x what the daemon did
     * C1-only (docs/performance.md, "The daemon's compiler"). The price is C2's compiling, on a
     * compiler thread, over a mount's first 20,000-30,000 small files. The start-up cache is
     * trained with the same options (scripts/lib/common.sh build_aot_cache). Keep in step with
     * scripts/lib/detached-mount.sh (DaemonJvmOptionsTest checks both).
     */
    static final List<String> DAEMON_JVM = List.of("-Xms64m", "-XX:+UseSerialGC");
    /** The smallest default heap, enough for some 300,000 inodes in use. */
    static final long MIN_HEAP_MIB = 384;
    /**
     * Heap per inode the file system can hold: the daemon keeps a handle for each inode it
     * has served (its locks, range locks, mapping cache: about 450 bytes measured with
     * jcmd GC.class_histogram) plus its directory entry. A fixed 384 MiB ran out of memory
     * listing a million files through the libfuse front end, which never forgets a handle.
     */
    static final long HEAP_BYTES_PER_INODE = 640;

    /**
     * The default -Xmx: {@link #MIN_HEAP_MIB}, or more for a file system with more inodes
     * (read from the superblock without opening the device; unreadable: the minimum, and the
     * daemon says what is wrong with it).
     */
    static String defaultHeap(Path target) {
        long inodes = 0;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
             java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(target)) {
            java.lang.foreign.MemorySegment head = arena.allocate(io.daxfs.core.format.Geometry.BLOCK_SIZE, 4096);
            java.nio.ByteBuffer b = head.asByteBuffer();
            while (b.hasRemaining() && c.read(b) > 0) {
                // the primary superblock
            }
            io.daxfs.core.format.Geometry g = io.daxfs.core.format.Superblock.statedGeometry(head);
            inodes = g == null ? 0 : g.inodeCount();
        } catch (IOException | RuntimeException e) {
            // not readable here, or not a daxfs: the daemon reports it
        }
        long ramMib = ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize() >> 20;
        long mib = Math.max(MIN_HEAP_MIB, Math.min(ramMib / 2, 128 + inodes * HEAP_BYTES_PER_INODE / (1 << 20)));
        return "-Xmx" + mib + "m";
    }

    @Parameters(index = "0", paramLabel = "TARGET")
    Path target;

    @Parameters(index = "1", paramLabel = "DIR")
    Path dir;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Comma-separated mount options (FUSE options, threads=N).")
    List<String> options = new ArrayList<>();

    @Option(names = {"-f", "--foreground"}, description = "Serve in this process until unmounted.")
    boolean foreground;

    @Option(names = "--log", paramLabel = "FILE", description = "Daemon log file (default: /tmp/daxfs/<dir>.log).")
    Path log;

    @Override
    public Integer call() {
        if (foreground) {
            return serveInForeground(target, dir, options);
        }
        try {
            MountOptions.parse(options);
        } catch (IllegalArgumentException e) {
            return DaxfsCommand.fail("mount", "bad option: " + e.getMessage());
        }
        String problem = checkMountPoint(dir);
        if (problem != null) {
            return DaxfsCommand.fail("mount", problem);
        }
        // The device itself is checked by the daemon as it opens it (before anything is
        // mounted); its error is relayed below. Checking it here too would cost this process
        // the java.lang.foreign start-up, a large part of the mount time.
        if (!Files.exists(target)) {
            return DaxfsCommand.fail("mount", target + " does not exist");
        }
        boolean readOnly = MountOptions.parse(options).readOnly();
        if (!Files.isReadable(target) || (!readOnly && !Files.isWritable(target))) {
            return DaxfsCommand.fail("mount", target + ": permission denied (the daemon needs to read"
                    + (readOnly ? " it)" : " and write it)"));
        }
        try {
            return startDetached();
        } catch (IOException | InterruptedException e) {
            return DaxfsCommand.fail("mount", "could not start the daemon: " + e);
        }
    }

    /**
     * Serves {@code target} at {@code dir} in this process until unmounted: {@code mount
     * --foreground}, and the detached daemon ({@link DaemonMain}). Returns the exit status; an
     * error is printed as "daxfs mount: ...", which the detaching parent relays.
     */
    static int serveInForeground(Path target, Path dir, List<String> options) {
        MountOptions mountOptions;
        try {
            mountOptions = MountOptions.parse(options);
        } catch (IllegalArgumentException e) {
            return DaxfsCommand.fail("mount", "bad option: " + e.getMessage());
        }
        String problem = checkMountPoint(dir);
        if (problem != null) {
            return DaxfsCommand.fail("mount", problem);
        }
        if (mountOptions.debug()) {
            // before the daemon's loggers exist: slf4j-simple reads a logger's level as it makes it
            System.setProperty("org.slf4j.simpleLogger.log.io.daxfs", "debug");
        }
        try {
            MountDaemon.serve(target, dir, mountOptions);
            return 0;
        } catch (DeviceException e) {
            return DaxfsCommand.fail("mount", e.getMessage()); // names the path itself
        } catch (CorruptFileSystemException e) {
            return DaxfsCommand.fail("mount", target + ": " + e.getMessage());
        } catch (FuseMountException e) {
            return DaxfsCommand.fail("mount", e.getMessage()); // says why in one line
        } catch (Exception e) {
            e.printStackTrace();
            return DaxfsCommand.fail("mount", e.toString());
        }
    }

    private static String checkMountPoint(Path dir) {
        if (!Files.isDirectory(dir)) {
            return "mount point " + dir + " does not exist or is not a directory";
        }
        Optional<MountTable.Entry> m = MountTable.find(canonical(dir));
        if (m.isPresent()) {
            return "mount point " + dir + " is busy: " + m.get().source() + " (" + m.get().fsType()
                    + ") is already mounted there";
        }
        return null;
    }

    private int startDetached() throws IOException, InterruptedException {
        Path logFile = log != null ? log : defaultLog();
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        long logStart = Files.exists(logFile) ? Files.size(logFile) : 0; // the log is appended to
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        List<String> jvmArgs = jvmOptions();
        cmd.addAll(jvmArgs);
        // The daemon's heap holds indexes, not data (data lives in the mapping): keep it small
        // unless the user chose a size. The default (a quarter of RAM) lets it grow to GiBs.
        if (jvmArgs.stream().noneMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxRAM"))) {
            cmd.addAll(DAEMON_JVM);
            cmd.add(defaultHeap(target));
        }
        String classPath = System.getProperty("java.class.path");
        cmd.addAll(DaemonStartupCache.jvmOptions(classPath));
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.addAll(DaemonMain.arguments(target.toAbsolutePath(), dir.toAbsolutePath(), options));
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectErrorStream(true)
                .start();
        long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            Optional<MountTable.Entry> m = MountTable.find(canonical(dir));
            if (m.isPresent() && m.get().fsType().equals("fuse.daxfs")) {
                System.out.println("daxfs: mounted " + target + " on " + dir + " (daemon pid " + p.pid()
                        + ", log " + logFile + ")");
                relayNotes(logFile, logStart);
                return 0;
            }
            if (p.waitFor(10, TimeUnit.MILLISECONDS)) {
                relayFailure(logFile, logStart, p.exitValue());
                return p.exitValue() == 0 ? 1 : p.exitValue();
            }
        }
        p.destroy();
        return DaxfsCommand.fail("mount", "the mount did not appear within " + READY_TIMEOUT_MS / 1000 + " s; see " + logFile);
    }

    /**
     * This JVM's own options (everything before -jar / -cp / the main class), so the daemon
     * runs with the same flags. Read from /proc through ProcessHandle: initialising JMX
     * (RuntimeMXBean) for this would cost a noticeable part of the mount time.
     */
    static List<String> jvmOptions() {
        String[] args = ProcessHandle.current().info().arguments().orElse(new String[0]);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-jar") || a.equals("-cp") || a.equals("-classpath") || a.equals("--class-path")
                    || !a.startsWith("-")) {
                break;
            }
            if (!DaemonStartupCache.isAotOption(a)) {
                out.add(a);
            }
        }
        return out;
    }

    /** The absolute, symlink-free path mountinfo lists (a dead FUSE mount cannot be resolved). */
    static Path canonical(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private Path defaultLog() {
        String name = dir.toAbsolutePath().normalize().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        return Path.of(System.getProperty("java.io.tmpdir"), "daxfs", name + ".log");
    }

    /**
     * The daemon failed before mounting: print its own "daxfs mount: ..." error lines (what
     * the user would have seen in the foreground), or the end of its log if it has none.
     */
    private static void relayFailure(Path logFile, long from, int status) {
        List<String> errors = List.of();
        try (var in = Files.newInputStream(logFile)) {
            in.skipNBytes(from);
            errors = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .filter(l -> l.startsWith("daxfs mount: ")).toList();
        } catch (IOException e) {
            // fall through to the tail
        }
        if (!errors.isEmpty()) {
            errors.subList(Math.max(0, errors.size() - 3), errors.size()).forEach(System.err::println);
            return;
        }
        System.err.println("daxfs mount: the daemon exited with status " + status + "; its log (" + logFile
                + ") ends with:");
        System.err.print(tail(logFile, 20));
    }

    /** What a read-only mount went past (damage, a replay kept in memory): the daemon's "note" lines. */
    private static void relayNotes(Path logFile, long from) {
        try (var in = Files.newInputStream(logFile)) {
            in.skipNBytes(from);
            new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .filter(l -> l.startsWith("daxfs mount: note: ")).forEach(System.err::println);
        } catch (IOException e) {
            // the mount is live; the notes are in the log
        }
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            StringBuilder b = new StringBuilder();
            for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) {
                b.append("  ").append(l).append('\n');
            }
            return b.toString();
        } catch (IOException e) {
            return "  (log unreadable: " + e.getMessage() + ")\n";
        }
    }
}
