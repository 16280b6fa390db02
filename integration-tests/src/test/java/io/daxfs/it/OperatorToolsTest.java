package io.daxfs.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.daxfs.it.Daxfs.q;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator tools as a user runs them (the packaged jar, a process each): info, freesp and
 * map on an unmounted and on a mounted daxfs, their output and exit statuses, wrong arguments,
 * a missing, foreign or damaged target, mkfs of a mounted target, --version, and the daemon's
 * log lines (mount, unmount, journal recovery, -o debug).
 */
class OperatorToolsTest {
    private final List<DaxfsMount> open = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (DaxfsMount m : open) {
            m.close();
        }
        open.clear();
    }

    /** An unmounted 64 MiB daxfs labelled "ops" with a few files on it. */
    private DaxfsMount filled() throws IOException {
        DaxfsMount m = DaxfsMount.empty();
        open.add(m);
        m.mkfs("64M", "--label", "ops");
        m.mount();
        Files.createDirectories(m.path("d"));
        Files.write(m.path("d/big"), Daxfs.random(1, 3 << 20));
        Files.write(m.path("small"), Daxfs.random(2, 5000));
        Files.createSymbolicLink(m.path("link"), Path.of("d/big"));
        m.umount();
        return m;
    }

    private static void assertOneLine(Daxfs.Result r, int exit, String... contains) {
        assertEquals(exit, r.exit(), r.toString());
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r);
        for (String c : contains) {
            assertTrue(r.err().contains(c), "stderr has '" + c + "': " + r);
        }
    }

    @Test
    void infoOfAnUnmountedDaxfs() throws IOException {
        DaxfsMount m = filled();
        Daxfs.Result r = Daxfs.daxfs("info", m.image.toString()).expectSuccess();
        String out = r.out();
        assertTrue(out.startsWith("daxfs on " + m.image + "\n"), out);
        assertTrue(out.contains("  label        ops\n"), out);
        assertTrue(out.contains("  format       version " + io.daxfs.core.format.Superblock.VERSION + ", 4096-byte blocks\n"), out);
        assertTrue(out.contains("  mounted      not mounted\n"), out);
        assertTrue(out.contains("  persistence  volatile: image on tmpfs"), out);
        assertTrue(out.contains("  journal      clean, last transaction "), out);
        assertTrue(out.contains("  inodes       4 used of 4,096 (0.1%): 2 files, 2 directories, 1 symlink, 0 other\n")
                || out.contains("1 symlink"), out);
        assertTrue(Pattern.compile("(?m)^  inode table +[0-9,]+ +256 +1 MiB$").matcher(out).find(), out);
        assertEquals("", r.err());

        Daxfs.Result json = Daxfs.daxfs("info", "--json", m.image.toString()).expectSuccess();
        String checked = Daxfs.python("""
                import json, sys
                d = json.load(open(sys.argv[1]))
                assert d["label"] == "ops", d
                assert d["mount"]["mounted"] is False and d["mount"]["daemon_pid"] is None, d
                assert d["inodes"]["regular_files"] == 2 and d["inodes"]["directories"] == 2, d
                assert d["inodes"]["symlinks"] == 1, d
                assert d["blocks"]["data_used"] + d["blocks"]["data_free"] == d["blocks"]["data_total"], d
                assert d["journal"]["pending"] is False and d["problems"] == [], d
                assert d["persistence"]["mode"] == "VOLATILE", d
                print(d["blocks"]["data_free"])
                """, write(m.dir.resolve("info.json"), json.out()));
        Daxfs.Result free = Daxfs.daxfs("freesp", "--json", m.image.toString()).expectSuccess();
        String freeBlocks = Daxfs.python("""
                import json, sys
                d = json.load(open(sys.argv[1]))
                assert sum(b["blocks"] for b in d["bins"]) == d["free_blocks"], d
                assert d["aligned_2mib_blocks"] == 512 * d["aligned_2mib_chunks"], d
                print(d["free_blocks"])
                """, write(m.dir.resolve("freesp.json"), free.out()));
        assertEquals(checked.strip(), freeBlocks.strip(), "info and freesp agree on the free blocks");
    }

    @Test
    void freespPrintsTheXfsDbLayout() throws IOException {
        DaxfsMount m = filled();
        String out = Daxfs.daxfs("freesp", m.image.toString()).expectSuccess().out();
        List<String> lines = out.lines().toList();
        assertEquals("   from      to extents  blocks    pct", lines.getFirst());
        long blocks = 0;
        long extents = 0;
        int i = 1;
        for (; i < lines.size() && lines.get(i).matches(" *\\d+ +\\d+ +\\d+ +\\d+ +\\d+\\.\\d\\d"); i++) {
            String[] f = lines.get(i).trim().split(" +");
            long from = Long.parseLong(f[0]);
            assertEquals(Long.bitCount(from), 1, "bins start at powers of two: " + lines.get(i));
            assertEquals(2 * from - 1, Long.parseLong(f[1]));
            extents += Long.parseLong(f[2]);
            blocks += Long.parseLong(f[3]);
        }
        assertTrue(i > 1, out);
        assertEquals("total free extents " + extents, lines.get(i));
        assertEquals("total free blocks " + blocks, lines.get(i + 1));
        assertTrue(lines.get(i + 2).startsWith("average free extent size "), out);
        assertTrue(lines.get(i + 3).startsWith("largest free extent "), out);
        assertTrue(lines.get(i + 4).matches("2 MiB-aligned free space \\d+ chunks, \\d+ blocks \\(.*\\), [0-9.]+% of free"),
                out);
    }

    @Test
    void theToolsReadAMountedDaxfsByDeviceOrMountPoint() throws IOException {
        DaxfsMount m = filled();
        m.mount();
        Files.writeString(m.path("while-mounted"), "x");
        String expect = "  mounted      on " + m.mnt + ", daemon pid " + m.pid() + "\n";
        for (Path target : List.of(m.image, m.mnt)) {
            Daxfs.Result r = Daxfs.daxfs("info", target.toString()).expectSuccess();
            assertTrue(r.out().contains(expect), r.toString());
            assertTrue(r.out().contains("  note         read while mounted"), r.toString());
            Daxfs.daxfs("freesp", target.toString()).expectSuccess();
        }
        Path png = m.dir.resolve("mounted.png");
        Daxfs.daxfs("map", m.mnt.toString(), "--out", png.toString()).expectSuccess();
        assertTrue(Files.size(png) > 1000);
        // the daemon was not disturbed: it still serves, and the image is still locked to it
        Files.writeString(m.path("after"), "y");
        assertEquals("x", Files.readString(m.path("while-mounted")));
        assertOneLine(Daxfs.daxfs("fsck", m.image.toString()), 8, "in use");
        m.umount();
        m.fsckClean();
    }

    /**
     * fsck's progress bar (DAXFS_PROGRESS_AFTER_MS=0: at once, not after a second): drawn on
     * standard error when it is a terminal (a pseudo-terminal from script(1)), and nothing of
     * it when standard error is a pipe, as in scripts, logs and this test.
     */
    @Test
    void fsckDrawsAProgressBarOnATerminalOnly() throws IOException {
        DaxfsMount m = filled();
        List<String> fsck = new ArrayList<>(List.of("/usr/bin/env", "DAXFS_PROGRESS_AFTER_MS=0", "TERM=xterm"));
        fsck.addAll(Daxfs.daxfsCommand(Daxfs.jar(), "fsck", m.image.toString()));
        Daxfs.Result piped = Daxfs.exec(fsck);
        assertEquals(0, piped.exit(), piped.toString());
        assertEquals("", piped.err(), "no bar on a pipe: " + piped);
        assertTrue(piped.out().strip().endsWith(": clean") && !piped.out().contains("%"), piped.toString());

        String command = String.join(" ", fsck.stream().map(Daxfs::q).toList());
        Daxfs.Result tty = Daxfs.exec(List.of("script", "-qefc", command, "/dev/null"));
        assertEquals(0, tty.exit(), tty.toString());
        assertTrue(Pattern.compile("fsck +100%").matcher(tty.out()).find(), "a bar on a terminal: " + tty);
        assertTrue(tty.out().contains(": clean"), tty.toString());
    }

    @Test
    void mapWritesPngAndSvg() throws IOException {
        DaxfsMount m = filled();
        Path png = m.dir.resolve("map.png");
        Daxfs.Result r = Daxfs.daxfs("map", m.image.toString(), "--out", png.toString()).expectSuccess();
        assertTrue(r.out().startsWith("daxfs map: wrote " + png + " ("), r.toString());
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        Path svg = m.dir.resolve("map.svg");
        Daxfs.daxfs("map", m.image.toString(), "-o", svg.toString(), "--files", "3").expectSuccess();
        String texts = Daxfs.python("""
                import sys, xml.dom.minidom
                d = xml.dom.minidom.parse(sys.argv[1])
                assert d.documentElement.tagName == "svg"
                print("\\n".join(t.firstChild.data for t in d.getElementsByTagName("text") if t.firstChild))
                """, svg);
        assertTrue(texts.contains("/d/big"), "the largest file is in the legend: " + texts);
        assertTrue(texts.contains("offline: busy extents exist only in a running daemon"), texts);

        assertOneLine(Daxfs.daxfs("map", m.image.toString(), "--out", m.dir.resolve("map.gif").toString()), 2,
                "--out must end in .png or .svg", "--help");
        assertOneLine(Daxfs.daxfs("map", m.image.toString()), 2, "Missing required option", "--help");
        assertOneLine(Daxfs.daxfs("map", m.image.toString(), "--out", "/nonexistent-dir/x.png"), 1,
                "directory /nonexistent-dir does not exist");
        assertOneLine(Daxfs.daxfs("map", m.image.toString(), "--out", png.toString(), "--files", "99"), 2, "--files");
    }

    @Test
    void wrongArgumentsAreOneLineAndExitTwo() {
        assertOneLine(Daxfs.daxfs(), 2, "daxfs: a subcommand is required", "see 'daxfs --help'");
        assertOneLine(Daxfs.daxfs("infp", "x"), 2, "did you mean info?", "see 'daxfs --help'");
        assertOneLine(Daxfs.daxfs("info"), 2, "daxfs info: Missing required parameter", "see 'daxfs info --help'");
        assertOneLine(Daxfs.daxfs("info", "--bogus", "x"), 2, "daxfs info: Unknown option: '--bogus'");
        assertOneLine(Daxfs.daxfs("freesp", "a", "b"), 2, "daxfs freesp:", "see 'daxfs freesp --help'");
        assertOneLine(Daxfs.daxfs("mkfs", "--inodes", "many", "x"), 2, "daxfs mkfs:", "--inodes");
        assertOneLine(Daxfs.daxfs("mount", "onlyone"), 2, "daxfs mount: Missing required parameter");
        for (String sub : List.of("mkfs", "mount", "fsck", "info", "freesp", "map")) {
            Daxfs.Result help = Daxfs.daxfs(sub, "--help").expectSuccess();
            assertTrue(help.out().startsWith("Usage: daxfs " + sub), help.toString());
            Daxfs.Result v = Daxfs.daxfs(sub, "--version").expectSuccess();
            assertTrue(v.out().matches("(?s)daxfs \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\non-media format version " + io.daxfs.core.format.Superblock.VERSION + "\nJava .*"),
                    v.toString());
        }
    }

    @Test
    void aMissingForeignOrDamagedTargetIsOneClearLine() throws IOException {
        DaxfsMount m = filled();
        for (String tool : List.of("info", "freesp")) {
            assertOneLine(Daxfs.daxfs(tool, m.dir.resolve("missing").toString()), 1,
                    "daxfs " + tool + ": " + m.dir.resolve("missing") + " does not exist");
        }
        assertOneLine(Daxfs.daxfs("info", m.dir.toString()), 1, "is a directory, not a device");
        Path zeros = m.dir.resolve("zeros");
        try (RandomAccessFile f = new RandomAccessFile(zeros.toFile(), "rw")) {
            f.setLength(32 << 20);
        }
        assertOneLine(Daxfs.daxfs("info", zeros.toString()), 1, "not a daxfs");
        // both superblocks damaged: a checksum mismatch, and nothing is written
        try (RandomAccessFile f = new RandomAccessFile(m.image.toFile(), "rw")) {
            f.seek(20);
            f.write(0x5a);
            f.seek(4096 + 20);
            f.write(0x5a);
        }
        String before = Daxfs.sha256(m.image);
        assertOneLine(Daxfs.daxfs("info", m.image.toString()), 1, "daxfs info: " + m.image + ": superblock checksum mismatch");
        assertOneLine(Daxfs.daxfs("map", m.image.toString(), "--out", m.dir.resolve("x.png").toString()), 1, "checksum");
        assertEquals(before, Daxfs.sha256(m.image), "the tools never write");
    }

    @Test
    void infoSaysWhenOnlyTheBackupSuperblockIsIntact() throws IOException {
        DaxfsMount m = filled();
        try (RandomAccessFile f = new RandomAccessFile(m.image.toFile(), "rw")) {
            f.seek(20);
            f.write(0x5a);
        }
        Daxfs.Result r = Daxfs.daxfs("info", m.image.toString()).expectSuccess();
        assertTrue(r.out().contains("  superblock   primary and backup differ (run daxfs fsck)"), r.toString());
    }

    @Test
    void mkfsRefusesAMountedTargetAndWritesNothing() throws IOException {
        DaxfsMount m = filled();
        m.mount();
        byte[] head = readHead(m.image);
        Daxfs.Result r = Daxfs.daxfs("mkfs", "--force", m.image.toString());
        assertOneLine(r, 1, "is mounted on " + m.mnt, "daemon pid " + m.pid(), "nothing was written");
        assertOneLine(Daxfs.daxfs("mkfs", "--force", m.mnt.toString()), 1, "is the mount point of", "nothing was written");
        assertArrayEquals(head, readHead(m.image));
        assertTrue(Files.exists(m.path("small")));
        m.umount();
        m.fsckClean();
    }

    @Test
    void theDaemonLogsMountUnmountRecoveryAndDebugLines() throws IOException {
        DaxfsMount m = filled();
        m.mount("debug");
        Files.writeString(m.path("logged"), "z");
        m.umount();
        String log = m.logText();
        assertTrue(Pattern.compile("(?m)INFO MountDaemon - mounted " + Pattern.quote(m.image.toString()) + " on "
                + Pattern.quote(m.mnt.toString()) + ": uuid ").matcher(log).find(), log);
        assertTrue(log.contains("INFO MountDaemon - unmounted " + m.image + " from " + m.mnt), log);
        if (DaxfsMount.kernelFrontend()) {
            assertTrue(Pattern.compile("(?m)DEBUG KernelFileSystem - CREATE unique \\d+ node 1 length \\d+: \\d+ us$")
                    .matcher(log).find(), log);
            assertTrue(Pattern.compile("(?m)DEBUG KernelFileSystem - WRITE unique \\d+ node \\d+ length \\d+: \\d+ us$")
                    .matcher(log).find(), log);
        }
        assertTrue(!log.contains("journal recovery"), log);

        // The last transaction made pending again (appliedSeq one back): the next mount replays it.
        long seq = setAppliedSeqBack(m.image);
        Daxfs.Result info = Daxfs.daxfs("info", m.image.toString()).expectSuccess();
        assertTrue(info.out().contains("  journal      transaction " + seq + " committed but not applied ("), info.toString());
        m.mount();
        m.umount();
        assertTrue(Pattern.compile("INFO MountDaemon - journal recovery on " + Pattern.quote(m.image.toString())
                + ": replayed committed transaction " + seq + " \\(\\d+ records, \\d+ bytes\\)").matcher(m.logText()).find(),
                m.logText());
        m.fsckClean();
        String before = m.logText();
        m.mount();
        m.umount();
        String after = m.logText().substring(before.length());
        assertEquals(1, count(after, "INFO MountDaemon - mounted "), after);
        assertEquals(1, count(after, "INFO MountDaemon - unmounted "), after);
        assertEquals(0, count(after, "journal recovery"), after);
        assertEquals(0, count(after, "DEBUG"), "no per-request lines without -o debug: " + after);
        assertEquals(2, count(after, " INFO "), "one line for the mount, one for the unmount: " + after);
    }

    /** Journal header at block 2: magic, appliedSeq. Moves appliedSeq back by one; returns the slot's seq. */
    private static long setAppliedSeqBack(Path image) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            f.seek(2 * 4096 + 8);
            f.readFully(b.array());
            long applied = b.getLong(0);
            b.putLong(0, applied - 1);
            f.seek(2 * 4096 + 8);
            f.write(b.array());
            return applied;
        }
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static byte[] readHead(Path image) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] b = new byte[1 << 20];
            f.readFully(b);
            return b;
        }
    }

    private static Path write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        return file;
    }
}
