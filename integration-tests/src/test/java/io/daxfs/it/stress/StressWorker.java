package io.daxfs.it.stress;

import io.daxfs.it.Posix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * One process of the mount stress test. It owns stripe {@code id} (bytes [id*S, (id+1)*S))
 * of every shared file and keeps a model of it: it writes, punches holes, zeroes ranges,
 * reads back and checks its stripe against the model, reads the other stripes (unchecked)
 * and hammers a "chaos" file everyone writes, punches and truncates anywhere. The last
 * worker also truncates inside its own stripe. So reads, writes, truncates and punches of
 * several processes overlap on the same files while each byte of each stripe has exactly one
 * writer whose model says what it must hold.
 *
 * <pre>
 * run    ID WORKERS STRIPE SECONDS SEED MODELDIR FILE...   exits 0, or 2 on a mismatch
 * verify ID WORKERS STRIPE 0       0    MODELDIR FILE...   checks the stripes against saved models
 * </pre>
 */
public final class StressWorker {
    private final int id;
    private final int workers;
    private final int stripe;
    private final Path modelDir;
    private final String[] files;
    private final Posix posix = new Posix();
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf;
    private final boolean last;
    private long ops;

    private StressWorker(String[] a) {
        id = Integer.parseInt(a[1]);
        workers = Integer.parseInt(a[2]);
        stripe = Integer.parseInt(a[3]);
        modelDir = Path.of(a[6]);
        files = Arrays.copyOfRange(a, 7, a.length);
        buf = arena.allocate(Math.max(stripe, 1 << 20), 4096);
        last = id == workers - 1;
    }

    public static void main(String[] args) throws IOException {
        StressWorker w = new StressWorker(args);
        try {
            if (args[0].equals("run")) {
                w.run(Integer.parseInt(args[4]), Long.parseLong(args[5]));
            } else {
                w.verifySaved();
            }
        } catch (MismatchException e) {
            System.err.println("MISMATCH worker " + w.id + ": " + e.getMessage());
            System.exit(2);
        }
        System.out.println("worker " + w.id + " ok after " + w.ops + " operations");
    }

    static final class MismatchException extends RuntimeException {
        MismatchException(String m) {
            super(m);
        }
    }

    private long base() {
        return (long) id * stripe;
    }

    private void run(int seconds, long seed) throws IOException {
        Random rnd = new Random(seed * 31 + id);
        String chaos = files[files.length - 1];
        int shared = files.length - 1;
        byte[][] model = new byte[shared][stripe];
        int[] eof = new int[shared]; // last worker: end of file inside its stripe
        Arrays.fill(eof, stripe);
        int[] fds = new int[files.length];
        for (int i = 0; i < files.length; i++) {
            fds[i] = posix.open(files[i]);
        }
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            ops++;
            int f = rnd.nextInt(shared);
            int fd = fds[f];
            int off = rnd.nextInt(stripe);
            int len = 1 + rnd.nextInt(Math.min(stripe - off, 96 << 10));
            int op = rnd.nextInt(100);
            if (op < 35) {
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, len);
                posix.pwriteFully(fd, buf, len, base() + off);
                System.arraycopy(data, 0, model[f], off, len);
                if (last) {
                    zeroGap(model[f], eof[f], off);
                    eof[f] = Math.max(eof[f], off + len);
                }
            } else if (op < 45) {
                posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, base() + off, len);
                Arrays.fill(model[f], off, Math.min(off + len, stripe), (byte) 0);
            } else if (op < 52) {
                posix.fallocate(fd, Posix.FALLOC_FL_ZERO_RANGE | Posix.FALLOC_FL_KEEP_SIZE, base() + off, len);
                Arrays.fill(model[f], off, Math.min(off + len, stripe), (byte) 0);
            } else if (op < 75) {
                check(fd, f, model[f], last ? eof[f] : stripe, off, len);
            } else if (op < 85) {
                int other = rnd.nextInt(workers);
                posix.preadFully(fd, buf, len, (long) other * stripe + off);
            } else if (op < 95) {
                chaos(fds[shared], rnd);
            } else if (last) {
                posix.ftruncate(fd, base() + off);
                Arrays.fill(model[f], off, stripe, (byte) 0);
                eof[f] = off;
            }
        }
        for (int f = 0; f < shared; f++) {
            check(fds[f], f, model[f], last ? eof[f] : stripe, 0, stripe);
            Files.write(modelDir.resolve("model-" + id + "-" + f), model[f]);
            Files.writeString(modelDir.resolve("eof-" + id + "-" + f), Integer.toString(last ? eof[f] : stripe));
        }
        for (int fd : fds) {
            posix.close(fd);
        }
    }

    /** Bytes between the old end of file and a write past it read as zeros. */
    private static void zeroGap(byte[] model, int eof, int writeStart) {
        if (writeStart > eof) {
            Arrays.fill(model, eof, writeStart, (byte) 0);
        }
    }

    /** Overlapping operations anywhere in the chaos file; its content is not checked. */
    private void chaos(int fd, Random rnd) {
        long size = (long) workers * stripe;
        long off = (long) (rnd.nextDouble() * size);
        long len = 1 + rnd.nextInt(128 << 10);
        switch (rnd.nextInt(5)) {
            case 0, 1 -> posix.pwriteFully(fd, buf, Math.min(len, buf.byteSize()), off);
            case 2 -> posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, off, len);
            case 3 -> posix.ftruncate(fd, off);
            default -> posix.preadFully(fd, buf, Math.min(len, buf.byteSize()), off);
        }
    }

    /** Reads [off, off+len) of this worker's stripe and compares it with the model. */
    private void check(int fd, int f, byte[] model, int eof, int off, int len) {
        long n = posix.preadFully(fd, buf, len, base() + off);
        long expected = last ? Math.max(0, Math.min(len, eof - off)) : len;
        if (n != expected) {
            throw new MismatchException("file " + files[f] + " stripe offset " + off + ": read " + n + " bytes, expected "
                    + expected + " (eof " + eof + ")");
        }
        for (int i = 0; i < n; i++) {
            byte b = buf.get(ValueLayout.JAVA_BYTE, i);
            if (b != model[off + i]) {
                throw new MismatchException("file " + files[f] + " byte " + (base() + off + i) + ": read " + b
                        + ", expected " + model[off + i] + " after " + ops + " operations");
            }
        }
    }

    private void verifySaved() throws IOException {
        for (int f = 0; f < files.length - 1; f++) {
            byte[] model = Files.readAllBytes(modelDir.resolve("model-" + id + "-" + f));
            int eof = Integer.parseInt(Files.readString(modelDir.resolve("eof-" + id + "-" + f)).trim());
            int fd = posix.open(files[f]);
            check(fd, f, model, eof, 0, stripe);
            posix.close(fd);
        }
    }
}
