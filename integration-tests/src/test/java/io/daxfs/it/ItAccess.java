package io.daxfs.it;

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

    public static String shOk(String script) {
        return Daxfs.shOk(script);
    }

    /** Starts {@code main} of {@code cls} in a new JVM with the test classpath and daxfs's JVM flags. */
    public static Process startJava(Class<?> cls, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Daxfs.java());
        cmd.addAll(Daxfs.JVM_FLAGS);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(cls.getName());
        cmd.addAll(args);
        return Daxfs.start(cmd);
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
