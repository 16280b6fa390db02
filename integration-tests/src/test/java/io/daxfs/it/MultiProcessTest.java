package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.daxfs.it.Daxfs.python;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.random;
import static io.daxfs.it.Daxfs.sha256;
import static io.daxfs.it.Daxfs.sha256sum;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several processes on one mount at once, and shared mmap from another process. One image for the class. */
@MountedDaxfs
class MultiProcessTest {
    private DaxfsMount m;

    /** Reads every target again and again until the flag file exists; each read must be a prefix of its source. */
    private static final String READER = """
            import os, sys
            flag, pairs = sys.argv[1], sys.argv[2:]
            sources = {pairs[i]: open(pairs[i + 1], 'rb').read() for i in range(0, len(pairs), 2)}
            reads = 0
            last_pass = False
            while True:
                if os.path.exists(flag):
                    last_pass = True
                for target, src in sources.items():
                    try:
                        with open(target, 'rb') as f:
                            data = f.read()
                    except FileNotFoundError:
                        continue  # its writer has not created it yet
                    if data != src[:len(data)]:
                        bad = next(i for i in range(len(data)) if data[i] != src[i]) if len(data) <= len(src) else len(src)
                        print('%s: %d bytes read, not a prefix of what is being written (first difference at %d)'
                              % (target, len(data), bad))
                        sys.exit(1)
                    reads += 1
                if last_pass:
                    break
            print('reads=%d' % reads)
            """;

    /**
     * Four shell processes each write their own 5 MiB file while two processes keep reading all
     * four back; every read is a prefix of the data being written, and at the end every file is
     * complete and fsck finds the image clean.
     */
    @Test
    void fourWritersAndTwoReadersAtOnce() throws IOException {
        List<Path> sources = new ArrayList<>();
        List<String> readerArgs = new ArrayList<>();
        Path flag = m.dir.resolve("writers-done");
        readerArgs.add(flag.toString());
        for (int i = 0; i < 4; i++) {
            Path src = Files.write(m.dir.resolve("source-" + i), random(100 + i, 5 << 20));
            sources.add(src);
            readerArgs.add(m.path("w" + i).toString());
            readerArgs.add(src.toString());
        }
        List<Process> readers = new ArrayList<>();
        List<Process> writers = new ArrayList<>();
        List<List<String>> readerCmds = new ArrayList<>();
        List<List<String>> writerCmds = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                List<String> cmd = new ArrayList<>(List.of(Daxfs.PYTHON, "-c", READER));
                cmd.addAll(readerArgs);
                readerCmds.add(cmd);
                readers.add(Daxfs.start(cmd));
            }
            for (int i = 0; i < 4; i++) {
                List<String> cmd = List.of("/bin/sh", "-c", "dd if=" + q(sources.get(i)) + " of=" + q(m.path("w" + i))
                        + " bs=16k status=none");
                writerCmds.add(cmd);
                writers.add(Daxfs.start(cmd));
            }
            for (int i = 0; i < writers.size(); i++) {
                Daxfs.finish(writerCmds.get(i), writers.get(i)).expectSuccess();
            }
        } finally {
            Files.writeString(flag, "");
        }
        for (int i = 0; i < readers.size(); i++) {
            Daxfs.Result r = Daxfs.finish(readerCmds.get(i).subList(0, 2), readers.get(i));
            assertEquals(0, r.exit(), "reader " + i + ": " + r.out() + r.err());
            assertTrue(r.out().startsWith("reads="), r.out());
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(sha256(sources.get(i)), sha256sum(m.path("w" + i)), "w" + i);
        }
        m.umount();
        m.fsckClean();
    }

    /** Reads a file in 1 MiB O_DIRECT reads until the flag exists; every byte must be 0xAA or 0 (never 0xBB). */
    private static final String DIRECT_READER = """
            import mmap, os, sys
            path, flag = sys.argv[1], sys.argv[2]
            buf = mmap.mmap(-1, 1 << 20)
            reads = spliced = 0
            while not os.path.exists(flag):
                fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
                try:
                    n = os.preadv(fd, [buf], 0)
                finally:
                    os.close(fd)
                data = buf[:n]
                if data.translate(None, b'\\xaa\\x00'):
                    bad = next(i for i in range(n) if data[i] not in (0xaa, 0))
                    print('read %d: byte %d is %#x, from another file' % (reads, bad, data[bad]))
                    sys.exit(1)
                reads += 1
                spliced += n >= 65536
            print('reads=%d spliced=%d' % (reads, spliced))
            """;

    /**
     * Large READs are spliced from the image (docs/kernel-frontend.md): the reply points at the
     * file's blocks until it has left the daemon's pipe. One process reads a 1 MiB file of 0xAA
     * with O_DIRECT again and again (READs of up to 1 MiB, each spliced) while another
     * truncates and rewrites it and writes files of 0xBB into the blocks it freed: no read ever
     * returns a byte of 0xBB. (The interleaving itself is forced in fs-core's race catalog,
     * {@code r4FreedExtentVersusSplicedReply}; this is the whole path on a real mount.)
     */
    @Test
    void splicedReadsNeverCarryTheBytesOfAFileThatReusedTheirBlocks() throws IOException {
        Path f = m.path("spliced");
        Path flag = m.dir.resolve("churn-done");
        python("open(__import__('sys').argv[1], 'wb').write(b'\\xaa' * (1 << 20))", f);
        List<String> readerCmd = List.of(Daxfs.PYTHON, "-c", DIRECT_READER, f.toString(), flag.toString());
        Process reader = Daxfs.start(readerCmd);
        try {
            python("""
                    import os, sys, time
                    f, d = sys.argv[1], sys.argv[2]
                    end = time.time() + 3
                    i = 0
                    while time.time() < end:
                        with open(f, 'r+b') as a:
                            a.truncate(0)
                            a.write(b'\\xaa' * (1 << 20))
                        with open(os.path.join(d, 'other-%d' % (i % 4)), 'wb') as b:
                            b.write(b'\\xbb' * (1 << 20))
                        i += 1
                    """, f, m.path(""));
        } finally {
            Files.writeString(flag, "");
        }
        Daxfs.Result r = Daxfs.finish(readerCmd.subList(0, 2), reader);
        assertEquals(0, r.exit(), r.out() + r.err());
        java.util.regex.Matcher counts = java.util.regex.Pattern.compile("reads=(\\d+) spliced=(\\d+)").matcher(r.out());
        assertTrue(counts.find(), r.out());
        assertTrue(Integer.parseInt(counts.group(2)) >= 20, "at least 20 reads of 64 KiB or more during the churn: " + r.out());
        if (DaxfsMount.FRONTEND.equals("kernel")) {
            assertTrue(m.logText().contains("are spliced from the image"), "the kernel front end spliced them:\n" + m.logText());
        }
    }

    /**
     * A python3 process maps a file on the mount MAP_SHARED, writes through the mapping,
     * msyncs and exits; cat in another process then reads the data, and so does the file system
     * after a remount. The other way round, a mapping reads what write(2) put there.
     */
    @Test
    void sharedMmapFromAnotherProcess() throws IOException {
        Path f = m.path("mapped");
        int size = 3 * 4096 + 123;
        python("""
                import mmap, os, sys
                size = int(sys.argv[2])
                fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
                os.ftruncate(fd, size)
                mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                mm[0:5] = b'hello'
                mm[4094:4099] = b'CROSS'
                mm[size - 3:size] = b'end'
                mm.flush()
                mm.close()
                os.close(fd)
                """, f, size);
        byte[] expected = new byte[size];
        put(expected, 0, "hello");
        put(expected, 4094, "CROSS");
        put(expected, size - 3, "end");
        assertEquals(sha256(expected), shOk("cat " + q(f) + " | sha256sum").substring(0, 64), "cat after msync");
        assertArrayEquals(expected, Files.readAllBytes(f));

        // A mapping of data written with write(2), changed in the middle through the mapping.
        Path g = m.path("written");
        byte[] data = random(5, 100000);
        Files.write(g, data);
        String mappedSha = python("""
                import hashlib, mmap, os, sys
                fd = os.open(sys.argv[1], os.O_RDWR)
                mm = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                print(hashlib.sha256(mm[:]).hexdigest())
                mm[50000:50004] = b'MMAP'
                mm.flush()
                mm.close()
                os.close(fd)
                """, g).strip();
        assertEquals(sha256(data), mappedSha, "the mapping shows what write(2) wrote");
        put(data, 50000, "MMAP");
        assertEquals(sha256(data), sha256sum(g));

        m.remount();
        assertArrayEquals(expected, Files.readAllBytes(f), "mmap-written data after remount");
        assertEquals(sha256(data), sha256sum(g));
    }

    private static void put(byte[] into, int at, String ascii) {
        byte[] b = ascii.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, into, at, b.length);
    }
}
