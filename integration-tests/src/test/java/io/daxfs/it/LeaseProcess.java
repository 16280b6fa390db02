package io.daxfs.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A process of its own that a lease test talks to line by line over its stdin and stdout: a
 * lease holder (the Python client of lease-client/python, or {@code daxfs lease --hold}), or a
 * reader of the mount. {@link #ask} sends one command and waits for one line. Closing stdin
 * ends the process normally (a holder releases its lease); {@link #kill9} ends it with SIGKILL.
 */
final class LeaseProcess implements AutoCloseable {
    /** Commands on stdin, one answer line each on stdout (see the script). */
    static final String HOLDER = """
            import hashlib, os, sys, threading, time
            sys.path.insert(0, sys.argv[1])
            import daxfs_lease as dl
            path, mode = sys.argv[2], sys.argv[3]
            lease = dl.Lease(path, write=(mode == 'write'))
            print('leased', lease.length, len(lease.pieces), flush=True)
            state = {'passes': 0, 'mismatch': 0, 'stop': False}
            loop = None
            if mode == 'watch':
                # Reads the whole mapping again and again: it must never change while the lease is held.
                expected = hashlib.sha256(lease.read(0, lease.length)).hexdigest()
                def watch():
                    while not state['stop']:
                        if hashlib.sha256(lease.read(0, lease.length)).hexdigest() != expected:
                            state['mismatch'] += 1
                        state['passes'] += 1
                loop = threading.Thread(target=watch)
                loop.start()
            for line in sys.stdin:
                cmd = line.split()
                if cmd[0] == 'read':
                    print(lease.read(int(cmd[1]), int(cmd[2])).hex(), flush=True)
                elif cmd[0] == 'sha':
                    print(hashlib.sha256(lease.read(0, lease.length)).hexdigest(), flush=True)
                elif cmd[0] == 'store':
                    lease.store(int(cmd[1]), bytes.fromhex(cmd[2])); print('ok', flush=True)
                elif cmd[0] == 'flush':
                    lease.flush(); print('ok', flush=True)
                elif cmd[0] == 'broken':
                    print(lease.broken(), flush=True)
                elif cmd[0] == 'wait':
                    print(lease.wait_break(float(cmd[1])), flush=True)
                elif cmd[0] == 'report':
                    print(state['passes'], state['mismatch'], flush=True)
                elif cmd[0] == 'close':
                    state['stop'] = True
                    if loop: loop.join()
                    lease.close(); print('closed', flush=True)
            """;

    /** A reader of the mount: read(2) and a shared mmap of one file, kept open. */
    static final String MOUNT_READER = """
            import mmap, os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY)
            m = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
            print('open', flush=True)
            for line in sys.stdin:
                cmd, off, n = line.split()
                off, n = int(off), int(n)
                print((os.pread(fd, n, off) if cmd == 'pread' else m[off:off + n]).hex(), flush=True)
            """;

    private final Process process;
    private final Writer in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> all = new ArrayList<>();
    private final Path err;

    private LeaseProcess(List<String> command) {
        try {
            err = Files.createTempFile("daxfs-it-lease", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectError(err.toFile());
            pb.environment().put("LC_ALL", "C");
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        in = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    synchronized (all) {
                        all.add(l);
                    }
                    lines.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        });
    }

    /** The Python client in the checkout (lease-client/python). */
    private static Path client() {
        return Path.of(System.getProperty("daxfs.root", "..")).resolve("lease-client/python").toAbsolutePath();
    }

    /** The Python holder: {@code mode} is read, write or watch (a read lease checked in a loop). */
    static LeaseProcess python(Path file, String mode) {
        return new LeaseProcess(List.of(Daxfs.PYTHON, "-u", "-c", HOLDER, client().toString(), file.toString(), mode));
    }

    /**
     * A copy of the Python client that every user can read, made in {@code dir} (which they
     * can search): the checkout itself may be under a home directory other users cannot enter
     * (/root, on a fresh machine).
     */
    static Path clientForAnyUser(Path dir) throws IOException {
        Path client = client();
        Path copy = Files.createDirectories(dir.resolve("lease-client-python"));
        Files.copy(client.resolve("daxfs_lease.py"), copy.resolve("daxfs_lease.py"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy.resolve("daxfs_lease.py"),
                PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
        return copy;
    }

    /** The Python holder run as another user through setpriv (uid = gid = {@code uid}, no groups). */
    static List<String> pythonAs(int uid, String script, Object... args) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "/usr/bin/python3", "-c", script));
        for (Object a : args) {
            cmd.add(a.toString());
        }
        return cmd;
    }

    /** {@code daxfs lease --hold FILE [args]}: the Java client, through the command line. */
    static LeaseProcess daxfsHold(Path file, String... args) {
        List<String> cmd = new ArrayList<>(List.of("lease", "--hold"));
        cmd.addAll(List.of(args));
        cmd.add(file.toString());
        return new LeaseProcess(Daxfs.daxfsCommand(Daxfs.jar(), cmd.toArray(String[]::new)));
    }

    /** A process that keeps {@code file} of the mount open for read(2) and mmap. */
    static LeaseProcess mountReader(Path file) {
        return new LeaseProcess(List.of(Daxfs.PYTHON, "-u", "-c", MOUNT_READER, file.toString()));
    }

    long pid() {
        return process.pid();
    }

    /** The next line of output (waits up to a minute). */
    String line() {
        try {
            String l = lines.poll(60, TimeUnit.SECONDS);
            if (l == null) {
                fail("no answer from " + process.info().commandLine().orElse("the process") + "; stderr: " + stderr());
            }
            return l;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits for a line starting with {@code prefix}, skipping others; returns it. */
    String awaitLine(String prefix) {
        while (true) {
            String l = line();
            if (l.startsWith(prefix)) {
                return l;
            }
        }
    }

    /** Sends {@code command} and returns the answer line. */
    String ask(String command) {
        send(command);
        return line();
    }

    /** Sends {@code command}; its answer is the next {@link #line}. */
    void send(String command) {
        try {
            in.write(command + "\n");
            in.flush();
        } catch (IOException e) {
            fail("cannot talk to the process (" + e + "); stderr: " + stderr());
        }
    }

    /** Everything printed so far. */
    List<String> output() {
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    String stderr() {
        try {
            return Files.readString(err);
        } catch (IOException e) {
            return "(unreadable)";
        }
    }

    /** SIGKILL, and waits until it is gone. */
    void kill9() {
        process.destroyForcibly();
        try {
            process.waitFor(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes stdin (a holder releases and exits) and waits for the exit; returns the exit status. */
    int finish() {
        try {
            in.close();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                fail("did not exit after stdin closed; stderr: " + stderr());
            }
            return process.exitValue();
        } catch (IOException e) {
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(err);
        } catch (IOException ignored) {
            // a temp file
        }
    }
}
