package io.daxfs.it.fsx;

import io.daxfs.it.Posix;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * The separate process through which fsx reads and writes files by MAP_SHARED mappings, so
 * that every mmap access crosses processes through the kernel page cache. It lives as long as
 * one {@link FsxRunner} run and takes one command per line on stdin, answering one line on
 * stdout ({@code ok ...} or {@code err MESSAGE}):
 *
 * <pre>
 * read OFF LEN PATH         maps the pages covering [OFF, OFF+LEN), answers "ok BASE64" of those bytes
 * write OFF LEN SEED PATH   stores FsxOp.data(SEED, LEN) at OFF through a mapping, msync(MS_SYNC), "ok"
 * close PATH                closes its descriptor of PATH (kept open between commands), "ok"
 * quit                      exits
 * </pre>
 *
 * A mapping is made per command (page-aligned start, length up to the last byte touched) and
 * unmapped after it. It prints "ready" once it has started.
 */
public final class FsxMmapHelper {
    private final Posix posix = new Posix();
    private final Map<String, Integer> fds = new HashMap<>();

    private FsxMmapHelper() {
    }

    public static void main(String[] args) throws IOException {
        FsxMmapHelper h = new FsxMmapHelper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 17);
        out.write("ready\n");
        out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("quit")) {
                break;
            }
            String answer;
            try {
                answer = h.execute(line);
            } catch (RuntimeException | Error e) { // a SIGBUS in a mapping arrives as InternalError
                answer = "err " + String.valueOf(e).replace('\n', ' ');
            }
            out.write(answer);
            out.write('\n');
            out.flush();
        }
        for (int fd : h.fds.values()) {
            h.posix.close(fd);
        }
    }

    private String execute(String line) {
        String[] f = line.split(" ", 2);
        switch (f[0]) {
            case "read" -> {
                String[] a = f[1].split(" ", 3);
                long off = Long.parseLong(a[0]);
                int len = Integer.parseInt(a[1]);
                return "ok " + Base64.getEncoder().encodeToString(read(fd(a[2]), off, len));
            }
            case "write" -> {
                String[] a = f[1].split(" ", 4);
                long off = Long.parseLong(a[0]);
                int len = Integer.parseInt(a[1]);
                write(fd(a[3]), off, FsxOp.data(Long.parseLong(a[2]), len));
                return "ok";
            }
            case "close" -> {
                Integer fd = fds.remove(f[1]);
                if (fd != null) {
                    posix.close(fd);
                }
                return "ok";
            }
            default -> throw new IllegalArgumentException("unknown command: " + line);
        }
    }

    private int fd(String path) {
        return fds.computeIfAbsent(path, posix::open);
    }

    private byte[] read(int fd, long off, int len) {
        long start = off & -Posix.PAGE;
        MemorySegment map = posix.mmapShared(fd, off + len - start, Posix.PROT_READ, start);
        try {
            return map.asSlice(off - start, len).toArray(ValueLayout.JAVA_BYTE);
        } finally {
            posix.munmap(map);
        }
    }

    private void write(int fd, long off, byte[] data) {
        long start = off & -Posix.PAGE;
        MemorySegment map = posix.mmapShared(fd, off + data.length - start, Posix.PROT_READ | Posix.PROT_WRITE, start);
        try {
            MemorySegment.copy(data, 0, map, ValueLayout.JAVA_BYTE, off - start, data.length);
            posix.msync(map);
        } finally {
            posix.munmap(map);
        }
    }
}
