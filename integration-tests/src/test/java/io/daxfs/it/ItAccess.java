package io.daxfs.it;

import io.daxfs.core.Fsck;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Public access to the integration-test fixture for tests in sub-packages. */
public final class ItAccess {
    private ItAccess() {
    }

    /** A result of a finished process. */
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout: " + out.strip() + "\nstderr: " + err.strip();
        }
    }

    /** A mounted daxfs on a fresh sparse image of {@code size}. */
    public static Mount mount(String size) {
        return new Mount(DaxfsMount.mounted(size));
    }

    /** The front end of this run's mounts: {@code kernel} or {@code libfuse} (-Ddaxfs.it.frontend). */
    public static String frontend() {
        return DaxfsMount.FRONTEND;
    }

    public static String shOk(String script) {
        return Daxfs.shOk(script);
    }

    /** Runs {@code sh -c script}, whatever its exit status. */
    public static Result sh(String script) {
        Daxfs.Result r = Daxfs.sh(script);
        return new Result(r.exit(), r.out(), r.err());
    }

    /** Starts {@code main} of {@code cls} in a new JVM with the test classpath and daxfs's JVM flags. */
    public static Process startJava(Class<?> cls, List<String> args) {
        return Daxfs.start(javaCommand(cls, args));
    }

    /** The command line that runs {@code main} of {@code cls} in a new JVM with the test classpath and daxfs's JVM flags. */
    public static List<String> javaCommand(Class<?> cls, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Daxfs.java());
        cmd.addAll(Daxfs.JVM_FLAGS);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(cls.getName());
        cmd.addAll(args);
        return cmd;
    }

    public static Result finish(Process p) {
        Daxfs.Result r = Daxfs.finish(List.of("java worker"), p);
        return new Result(r.exit(), r.out(), r.err());
    }

    public static Result runJava(Class<?> cls, List<String> args) {
        return finish(startJava(cls, args));
    }

    /** A mount of the fixture, seen from sub-packages. */
    public static final class Mount implements AutoCloseable {
        private final DaxfsMount m;

        Mount(DaxfsMount m) {
            this.m = m;
        }

        public Path mountPoint() {
            return m.mnt;
        }

        public Path dir() {
            return m.dir;
        }

        public void umount() {
            m.umount();
        }

        public void mount() {
            m.mount();
        }

        public void fsckClean() {
            m.fsckClean();
        }

        /** {@code daxfs fsck} of the image, whatever it finds. */
        public Result fsck() {
            Daxfs.Result r = m.fsck();
            return new Result(r.exit(), r.out(), r.err());
        }

        /**
         * fsck's check of the image (what {@code daxfs fsck} runs: the read-only open, then
         * {@code Fsck.check}) in this JVM, so a caller that checks after every one of hundreds of
         * kills saves a JVM start each time. Exit status, and the report on stdout (exit 0 or 1)
         * or stderr, as the command gives them.
         */
        public Result fsckInProcess() {
            try (OpenedDevice d = DeviceOpener.open(m.image, DeviceOptions.readOnlyOptions())) {
                FsckReport r = Fsck.check(d.region().readView(), FsChecker.Progress.NONE);
                return r.exitCode() <= FsckReport.REPAIRED ? new Result(r.exitCode(), r.render(), "")
                        : new Result(r.exitCode(), "", r.render());
            } catch (DeviceException e) {
                return new Result(FsckReport.COULD_NOT_CHECK, "", "daxfs fsck: cannot check: " + e.getMessage());
            }
        }

        /** The image file. */
        public Path image() {
            return m.image;
        }

        /** The pid of the daemon serving the mount. */
        public long daemonPid() {
            return m.pid();
        }

        /** SIGKILL to the daemon; returns once it is gone. The mount stays, dead. */
        public void killDaemon() {
            m.killDaemon();
        }

        /** {@code fusermount -u} of the (dead) mount. */
        public void fusermountU() {
            m.fusermountU();
        }

        /** What the daemons of this mount logged. */
        public String daemonLog() {
            return m.logText();
        }

        public void assertNoDaemonErrors() {
            m.assertNoDaemonErrors();
        }

        /** Bytes of memory or disk the backing image really occupies (st_blocks * 512). */
        public long imageAllocatedBytes() {
            return Long.parseLong(Daxfs.shOk("stat -c %b " + Daxfs.q(m.image)).trim()) * 512;
        }

        @Override
        public void close() {
            m.close();
        }
    }
}
