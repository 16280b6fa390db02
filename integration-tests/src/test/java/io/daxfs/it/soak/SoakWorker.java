package io.daxfs.it.soak;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.TreeMap;

/**
 * One workload process of the kill -9 soak: it lives across cycles and runs one plan per
 * cycle in a directory of the mount, op by op, and logs each op durably enough for the checker
 * to know what returned: {@code B n} before op n's first system call, {@code E n ok T} after its
 * last one returned, {@code E n err ERRNO T MESSAGE} if one failed (T = System.nanoTime(), the
 * same monotonic clock as the checker's). Each record is one write(2) to a log file on another
 * file system (the fixture's tmpfs), so it is in the kernel before the next system call is
 * made and survives the death of any process. The first failure ends the run (after the kill,
 * every call on the dead mount fails); handles still open are then closed, so the dead mount
 * can be unmounted.
 *
 * <p>Protocol (stdin, stdout): {@code RUN ROOT PLAN LOG} runs the plan's ops with paths under
 * ROOT; the worker answers {@code STARTED} just before op 0 and {@code STOPPED N ERRNO} when
 * it ends (N ops completed; ERRNO 0 if the plan ran out). {@code EXIT} ends the process.
 */
public final class SoakWorker {
    private static final int MAX_WRITE = 1 << 20;

    private final SoakSys sys = new SoakSys();
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(MAX_WRITE, 4096);
    private final TreeMap<Integer, Integer> handles = new TreeMap<>();

    public static void main(String[] args) throws IOException {
        SoakSys.umask(0); // the modes the plan asks for are the modes the files get
        SoakWorker w = new SoakWorker();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t");
            if (f[0].equals("EXIT")) {
                break;
            }
            if (!f[0].equals("RUN") || f.length != 4) {
                throw new IllegalArgumentException("unknown command: " + line);
            }
            int[] result = w.run(f[1], Path.of(f[2]), Path.of(f[3]));
            System.out.println("STOPPED " + result[0] + " " + result[1]);
            System.out.flush();
        }
    }

    /** Returns {ops completed, errno of the failing op or 0}. */
    private int[] run(String root, Path planFile, Path logFile) throws IOException {
        List<SoakOp> plan = Files.readAllLines(planFile, StandardCharsets.UTF_8).stream().map(SoakOp::parse).toList();
        int done = 0;
        int errno = 0;
        try (FileChannel log = FileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            System.out.println("STARTED");
            System.out.flush();
            for (SoakOp op : plan) {
                record(log, "B " + done + "\n");
                try {
                    execute(root, op);
                } catch (SoakSys.Errno e) {
                    errno = e.errno;
                    record(log, "E " + done + " err " + e.errno + " " + System.nanoTime() + " " + e.getMessage() + "\n");
                    break;
                }
                record(log, "E " + done + " ok " + System.nanoTime() + "\n");
                done++;
            }
        } finally {
            for (int fd : handles.values()) {
                closeQuietly(fd);
            }
            handles.clear();
        }
        return new int[] {done, errno};
    }

    private static void record(FileChannel log, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            log.write(b);
        }
    }

    private MemorySegment data(SoakOp op) {
        byte[] bytes = SoakOp.data(op.seed(), (int) op.y());
        MemorySegment s = buf.asSlice(0, bytes.length);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return s;
    }

    private void execute(String root, SoakOp op) {
        String p = op.path() == null ? null : root + "/" + op.path();
        String p2 = op.path2() == null ? null : root + "/" + op.path2();
        switch (op.kind()) {
            case CREATE -> sys.close(sys.open(p, SoakSys.O_CREAT | SoakSys.O_EXCL | SoakSys.O_WRONLY, (int) op.x()));
            case WRITE -> {
                MemorySegment d = data(op);
                int fd = sys.open(p, SoakSys.O_WRONLY, 0);
                try {
                    sys.pwriteFully(fd, d, op.x());
                    if (op.fsync()) {
                        sys.fsync(fd);
                    }
                } catch (SoakSys.Errno e) {
                    closeQuietly(fd);
                    throw e;
                }
                sys.close(fd);
            }
            case FWRITE -> {
                int fd = handles.get(op.handle());
                sys.pwriteFully(fd, data(op), op.x());
                if (op.fsync()) {
                    sys.fsync(fd);
                }
            }
            case TRUNCATE -> sys.truncate(p, op.x());
            case UNLINK -> sys.unlink(p);
            case MKDIR -> sys.mkdir(p, (int) op.x());
            case RMDIR -> sys.rmdir(p);
            case RENAME -> sys.rename(p, p2, 0);
            case EXCHANGE -> sys.rename(p, p2, SoakSys.RENAME_EXCHANGE);
            case NOREPLACE -> sys.rename(p, p2, SoakSys.RENAME_NOREPLACE);
            case LINK -> sys.link(p, p2);
            case SYMLINK -> sys.symlink(op.path2(), p);
            case SETXATTR -> sys.setxattr(p, op.path2(), SoakOp.data(op.seed(), (int) op.y()));
            case RMXATTR -> sys.removexattr(p, op.path2());
            case CHMOD -> sys.chmod(p, (int) op.x());
            case UTIMENS -> sys.utimens(p, op.x(), op.y());
            case OPEN -> handles.put(op.handle(), sys.open(p, SoakSys.O_RDWR, 0));
            case CLOSE -> sys.close(handles.remove(op.handle()));
        }
    }

    /** Closes a descriptor after a failed call without hiding that call's error. */
    private void closeQuietly(int fd) {
        try {
            sys.close(fd);
        } catch (SoakSys.Errno ignored) {
            // the failed call is the one reported
        }
    }
}
