package io.daxfs.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the packaged daxfs CLI ({@code java FLAGS -jar daxfs.jar ...}) and shell tools as
 * separate processes, capturing exit status, stdout and stderr.
 *
 * <p>Output goes to temporary files, never pipes: a command may leave a background process
 * (the mount daemon, a shell's {@code &} job) that would otherwise hold a pipe open forever.
 * Every process has a generous safety limit so that a hung mount fails the test instead of
 * hanging the build; no test asserts on how long anything takes.
 */
final class Daxfs {
    /**
     * JVM flags every daxfs process needs, and the checks the tests turn on: an updated journal
     * checksum is compared with a full computation (fs-core Sealer).
     */
    static final List<String> JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=deny", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
            "-Ddaxfs.verifySeals=true");
    /** python3 (the system one if present: a pyenv shim costs a shell start per call). */
    static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    /** Safety net against hangs only. */
    static final long PROCESS_LIMIT_SECONDS = 240;

    /** Output files of the processes started and not finished yet. */
    private static final Map<Process, Path[]> STARTED = new ConcurrentHashMap<>();

    private Daxfs() {
    }

    /** What a finished process did. */
    record Result(List<String> command, int exit, String out, String err) {
        boolean ok() {
            return exit == 0;
        }

        /** Fails the test, showing everything, unless the exit status is 0. */
        Result expectSuccess() {
            if (exit != 0) {
                fail("command failed: " + this);
            }
            return this;
        }

        /** Fails unless the exit status is nonzero. */
        Result expectFailure() {
            if (exit == 0) {
                fail("command unexpectedly succeeded: " + this);
            }
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + "\n  exit " + exit + "\n  stdout: " + out.strip()
                    + "\n  stderr: " + err.strip();
        }
    }

    /** The shaded jar, from the system property the pom sets. */
    static Path jar() {
        String p = System.getProperty("daxfs.jar");
        if (p == null) {
            fail("system property daxfs.jar is not set (run through Maven, or pass -Ddaxfs.jar=...)");
        }
        Path jar = Path.of(p).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            fail(jar + " does not exist: build it first (mvn -Dmaven.test.skip=true install -pl devdax,fs-core,fuse-adapter)");
        }
        return jar;
    }

    /** The java launcher of this JVM (a JDK 25). */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code java FLAGS -jar JAR args...}. */
    static List<String> daxfsCommand(Path jar, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs the daxfs CLI. */
    static Result daxfs(String... args) {
        return exec(daxfsCommand(jar(), args));
    }

    /** Runs {@code sh -c script}. */
    static Result sh(String script) {
        return exec(List.of("/bin/sh", "-c", script));
    }

    /** Runs {@code sh -c script}, failing the test unless it exits 0; returns its stdout. */
    static String shOk(String script) {
        return sh(script).expectSuccess().out();
    }

    /** Runs {@code python3 -c script} with sys.argv[1..] = args, failing the test unless it exits 0; returns its stdout. */
    static String python(String script, Object... args) {
        StringBuilder cmd = new StringBuilder(PYTHON + " -c " + q(script));
        for (Object a : args) {
            cmd.append(' ').append(q(a));
        }
        return shOk(cmd.toString());
    }

    /**
     * Runs python3 statements, with os, sys, errno, ctypes, hashlib and random imported and
     * sys.argv[1..] = args; returns "OK", or the errno name of the OSError they raised (e.g.
     * "ENOENT").
     */
    static String pythonErrno(String statements, Object... args) {
        String script = "import os, sys, errno, ctypes, hashlib, random\ntry:\n"
                + statements.lines().map(l -> "    " + l + "\n").collect(Collectors.joining())
                + "    print('OK')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n";
        return python(script, args).strip();
    }

    /** Runs a command to completion with LC_ALL=C (English error messages). */
    static Result exec(List<String> command) {
        Process p = start(command);
        return finish(command, p);
    }

    /** Starts a command whose output goes to temporary files; finish it with {@link #finish}. */
    static Process start(List<String> command) {
        try {
            Path out = Files.createTempFile("daxfs-it-out", ".txt");
            Path err = Files.createTempFile("daxfs-it-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            pb.environment().put("LC_ALL", "C");
            pb.environment().put("LANG", "C");
            Process p = pb.start();
            STARTED.put(p, new Path[] {out, err});
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Waits for a process started by {@link #start} and collects its output. */
    static Result finish(List<String> command, Process p) {
        Path[] files = STARTED.remove(p);
        try {
            if (!p.waitFor(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
                fail("command did not finish within the safety limit of " + PROCESS_LIMIT_SECONDS + " s (hung?): "
                        + command + "\n  stdout: " + read(files[0]) + "\n  stderr: " + read(files[1]));
            }
            return new Result(List.copyOf(command), p.exitValue(), read(files[0]), read(files[1]));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + command, e);
        } finally {
            for (Path f : files) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // a temp file
                }
            }
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Quotes for sh: 'it''s' style. */
    static String q(Object s) {
        return "'" + s.toString().replace("'", "'\\''") + "'";
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** SHA-256 of a file, streaming (for large files and images). */
    static String sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code sha256sum FILE} run by a separate process: the hash another process reads. */
    static String sha256sum(Path file) {
        String out = shOk("sha256sum " + q(file));
        return out.substring(0, 64);
    }

    /** Deterministic pseudo-random bytes. */
    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }
}
