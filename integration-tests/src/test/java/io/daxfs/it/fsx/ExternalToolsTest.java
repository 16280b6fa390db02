package io.daxfs.it.fsx;

import io.daxfs.it.ItAccess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's stress-ng file-system stressors and fio write+verify jobs against a fresh mount;
 * each tool must exit 0, the daemon must log no internal error, and fsck must be clean after
 * umount. Needs {@code apt-get install -y stress-ng fio} (the tests are skipped without them).
 * Written for stress-ng 0.15.06 and fio 3.33 (Debian 12).
 */
class ExternalToolsTest {
    static final String STRESS_NG = "/usr/bin/stress-ng";
    static final String FIO = "/usr/bin/fio";

    /**
     * The stressors that work on files in --temp-path, 20 s, all at once, with --verify.
     *
     * <p>Left out, and why:
     * <ul>
     * <li>fiemap, verity, inode-flags, chattr: FS_IOC_FIEMAP, fs-verity and the inode flag
     * ioctls do not exist on a FUSE mount (skipped, or zero operations);</li>
     * <li>filename with its default options: it probes with every byte value in names, and
     * bytes that are not valid UTF-8 become U+FFFD (3 bytes each) in jnr-fuse's String
     * decoding, so its longest probe name exceeds 255 bytes (ENAMETOOLONG; a documented
     * limitation). It runs with --filename-opts posix instead;</li>
     * <li>sync-file: sync_file_range is not forwarded by FUSE (zero operations);</li>
     * <li>flock, lockf, lockofd, locka, lease, fcntl: locks and leases stay in the kernel (not
     * forwarded); these spin on the two cores and starve the stressors that reach daxfs;</li>
     * <li>hdd with --hdd-opts direct (O_DIRECT): daxfs refuses direct_io (it breaks shared mmap on
     * FUSE 7.19), O_DIRECT is served through the page cache, so the default hdd covers it;</li>
     * <li>metamix: not in this stress-ng version.</li>
     * </ul>
     */
    @Test
    void stressNgFileSystemStressors() {
        assumeTrue(Files.isExecutable(Path.of(STRESS_NG)), "stress-ng is not installed (apt-get install -y stress-ng)");
        try (ItAccess.Mount m = ItAccess.mount("1G")) {
            Path mnt = m.mountPoint();
            List<String> problems = new ArrayList<>();
            check(problems, () -> System.out.println(ItAccess.shOk(STRESS_NG + " --temp-path " + mnt
                    + " --timeout 20s --verify --metrics-brief"
                    + " --hdd 2 --hdd-bytes 16M"
                    + " --dir 1 --dirdeep 1 --dirdeep-inodes 2000 --dirmany 1 --dentry 1"
                    + " --link 1 --symlink 1 --rename 1 --mknod 1 --chmod 1 --utime 1 --touch 1 --open 1"
                    + " --filename 1 --filename-opts posix"
                    + " --seek 1 --seek-size 16M --iomix 1 --iomix-bytes 16M --readahead 1 --readahead-bytes 16M"
                    + " --fallocate 1 --fallocate-bytes 64M --fpunch 1 --fsize 1"
                    + " --copy-file 1 --copy-file-bytes 128M --xattr 1"
                    + " --mmap 1 --mmap-file --mmap-bytes 16M 2>&1")));
            check(problems, m::assertNoDaemonErrors);
            m.umount();
            check(problems, m::fsckClean);
            if (!problems.isEmpty()) {
                fail(String.join("\n\n", problems));
            }
        }
    }

    /** The fio jobs: name and options. */
    static final List<String> FIO_JOBS = List.of(
            "--name=seq1m --rw=write --bs=1M --size=128M",
            "--name=rand4k --rw=randwrite --bs=4k --size=32M --verify_backlog=1024",
            "--name=jobs4 --rw=randwrite --bsrange=4k-64k --size=32M --numjobs=4",
            "--name=mmap4k --ioengine=mmap --rw=randwrite --bs=4k --size=16M");

    /**
     * fio writes with crc32c verify headers and reads everything back (sequential 1 MiB
     * blocks; random 4 KiB blocks verified as it goes with --verify_backlog; four jobs with
     * random 4-64 KiB blocks; random 4 KiB through mmap). After a remount, --verify_only of
     * every job reads the same blocks again, now through daxfs rather than the page cache.
     */
    @Test
    void fioWriteAndVerify() {
        assumeTrue(Files.isExecutable(Path.of(FIO)), "fio is not installed (apt-get install -y fio)");
        try (ItAccess.Mount m = ItAccess.mount("1G")) {
            Path mnt = m.mountPoint();
            String common = FIO + " --directory=" + mnt + " --verify=crc32c --verify_fatal=1 --verify_state_save=0"
                    + " --ioengine=psync --group_reporting ";
            List<String> problems = new ArrayList<>();
            for (String job : FIO_JOBS) {
                check(problems, () -> System.out.println(ItAccess.shOk(common + job + " 2>&1")));
            }
            check(problems, m::assertNoDaemonErrors);
            m.umount();
            check(problems, m::fsckClean);
            m.mount();
            for (String job : FIO_JOBS) {
                check(problems, () -> System.out.println(ItAccess.shOk(common + job + " --verify_only 2>&1")));
            }
            check(problems, m::assertNoDaemonErrors);
            m.umount();
            check(problems, m::fsckClean);
            if (!problems.isEmpty()) {
                fail(String.join("\n\n", problems));
            }
        }
    }

    /** Runs a check, collecting its failure instead of stopping, so that every tool runs. */
    private static void check(List<String> problems, Runnable r) {
        try {
            r.run();
        } catch (AssertionError e) {
            problems.add(e.getMessage());
        }
    }
}
