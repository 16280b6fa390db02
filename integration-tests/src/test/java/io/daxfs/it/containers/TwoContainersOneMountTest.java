package io.daxfs.it.containers;

import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.PropagationMode;
import com.github.dockerjava.api.model.SELContext;
import com.github.dockerjava.api.model.Volume;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.daxfs.it.containers.ContainerSupport.host;
import static io.daxfs.it.containers.ContainerSupport.hostQuiet;
import static io.daxfs.it.containers.ContainerSupport.number;
import static io.daxfs.it.containers.ContainerSupport.q;
import static io.daxfs.it.containers.ContainerSupport.runOk;
import static io.daxfs.it.containers.ContainerSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two containers, one daxfs: the daemon runs in container A, which mounts daxfs inside a
 * directory that is a shared mount on the host (bind-mounted into A with rshared propagation);
 * container B has the same host directory with rslave propagation, so the FUSE mount made in A
 * appears in B, and B's processes (no JDK, no daxfs, no /dev/fuse, no capabilities) read and
 * write through it: every request goes through the kernel to A's daemon. Each side checks what
 * the other wrote (sha256), B renames and removes, A sees it; after A unmounts, the mount is
 * gone from B too, and fsck finds the image clean.
 */
@Tag(ContainerSupport.TAG)
@ResourceLock("docker")
class TwoContainersOneMountTest {

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void clientInAnotherContainerReadsAndWritesThroughTheMount() throws IOException {
        ContainerSupport.Images images = ContainerSupport.images();
        String root = ContainerSupport.ROOT.toString();
        Path shared = Files.createTempDirectory(Path.of("/tmp"), "daxfs-two-containers-");
        // The host directory must itself be a shared mount for mounts to propagate through it.
        host("mount --bind " + q(shared) + " " + q(shared) + " && mount --make-rshared " + q(shared));
        try {
            Files.createDirectories(shared.resolve("mnt"));
            GenericContainer<?> a = ContainerSupport.fuseContainer(images.pg(), "two-containers-daemon")
                    .withFileSystemBind(root, root, BindMode.READ_ONLY)
                    .withEnv("DAXFS_ROOT", root)
                    .withTmpFs(Map.of("/pm", "rw,size=512m"));
            ContainerSupport.addBind(a, new Bind(shared.toString(), new Volume("/shared"), AccessMode.rw, SELContext.none, null,
                    PropagationMode.RSHARED));
            GenericContainer<?> b = new GenericContainer<>(DockerImageName.parse(images.pg()))
                    .withImagePullPolicy(n -> false)
                    .withCommand("sleep", "infinity")
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withInit(true))
                    .withLogConsumer(ContainerSupport.logTo("two-containers-client"));
            ContainerSupport.addBind(b, new Bind(shared.toString(), new Volume("/shared"), AccessMode.rw, SELContext.none, null,
                    PropagationMode.RSLAVE));
            try (a; b) {
                a.start();
                b.start();
                Duration limit = Duration.ofMinutes(3);
                String daxfs = "env DAXFS_NO_BUILD=1 " + root + "/scripts/daxfs";
                String out = runOk(a, limit, "mkfs and mount in container A", daxfs + " mkfs /pm/img --size 256M >/dev/null\n"
                        + daxfs + " mount /pm/img /shared/mnt -o allow_other --log /pm/daemon.log\n"
                        + "echo \"fstype=$(findmnt -n -o FSTYPE --mountpoint /shared/mnt)\"\n"
                        + "head -c 3000000 /dev/urandom > /shared/mnt/from-a\n"
                        + "echo \"a_sum=$(sha256sum < /shared/mnt/from-a | cut -d' ' -f1)\"");
                assertEquals("fuse.daxfs", value(out, "fstype"));
                String aSum = value(out, "a_sum");

                out = runOk(b, limit, "client in container B", """
                        echo "fstype=$(findmnt -n -o FSTYPE --mountpoint /shared/mnt)"
                        echo "pid_of_a_daemon_here=$(pgrep -f '[D]aemonMain' | wc -l)"
                        echo "read_a=$(sha256sum < /shared/mnt/from-a | cut -d' ' -f1)"
                        mkdir -p /shared/mnt/b/sub
                        for i in $(seq 1 50); do head -c $((i * 4099)) /dev/urandom > /shared/mnt/b/sub/f$i; done
                        head -c 1000000 /dev/urandom > /shared/mnt/b/big
                        dd if=/dev/zero of=/shared/mnt/b/big bs=4096 seek=10 count=3 conv=notrunc,fsync status=none
                        echo "big_sum=$(sha256sum < /shared/mnt/b/big | cut -d' ' -f1)"
                        mv /shared/mnt/b/sub/f1 /shared/mnt/b/renamed
                        rm /shared/mnt/b/sub/f2
                        echo "files=$(ls /shared/mnt/b/sub | wc -l)"
                        """);
                assertEquals("fuse.daxfs", value(out, "fstype"), "the mount made in A is visible in B");
                assertEquals(0, number(out, "pid_of_a_daemon_here"), "B has no daxfs daemon of its own");
                assertEquals(aSum, value(out, "read_a"), "B reads what A wrote");
                String bigSum = value(out, "big_sum");
                assertEquals(48, number(out, "files"));

                out = runOk(a, limit, "container A checks what B wrote", """
                        echo "files=$(ls /shared/mnt/b/sub | wc -l)"
                        echo "renamed=$(test -f /shared/mnt/b/renamed && echo yes)"
                        echo "f2=$(test -e /shared/mnt/b/sub/f2 && echo present || echo gone)"
                        echo "big_sum=$(sha256sum < /shared/mnt/b/big | cut -d' ' -f1)"
                        """);
                assertEquals(48, number(out, "files"));
                assertEquals("yes", value(out, "renamed"));
                assertEquals("gone", value(out, "f2"));
                assertEquals(bigSum, value(out, "big_sum"), "A reads what B wrote");

                // The 49 small files left (48 in sub/, one renamed), read on each side.
                out = runOk(b, limit, "B sums the files it left", """
                        cd /shared/mnt/b && cat sub/f* renamed | sha256sum | cut -d' ' -f1 | sed 's/^/left_sum=/'
                        """);
                String leftInB = value(out, "left_sum");
                out = runOk(a, limit, "A sums the same files", """
                        cd /shared/mnt/b && cat sub/f* renamed | sha256sum | cut -d' ' -f1 | sed 's/^/left_sum=/'
                        """);
                assertEquals(leftInB, value(out, "left_sum"), "both containers read the same bytes");
                assertEquals(64, leftInB.length());

                out = runOk(a, limit, "unmount in A, fsck", "umount /shared/mnt\n"
                        + "for i in $(seq 1 300); do pgrep -f '[D]aemonMain' >/dev/null || break; sleep 0.1; done\n"
                        + daxfs + " fsck /pm/img; echo \"fsck_rc=$?\"");
                assertEquals(0, number(out, "fsck_rc"), "fsck:\n" + out);
                out = runOk(b, limit, "the mount is gone in B", "echo \"fstype=$(findmnt -n -o FSTYPE --mountpoint /shared/mnt)\"");
                assertEquals("", value(out, "fstype"), "the unmount in A reaches B");
            }
        } finally {
            hostQuiet("umount -R -l " + q(shared));
            try {
                Files.deleteIfExists(shared.resolve("mnt"));
                Files.deleteIfExists(shared);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
