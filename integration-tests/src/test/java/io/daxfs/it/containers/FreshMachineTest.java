package io.daxfs.it.containers;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.MountableFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.daxfs.it.containers.ContainerSupport.runOk;
import static io.daxfs.it.containers.ContainerSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A fresh machine: a container from the plain Debian base image (debootstrap minbase: no JDK on
 * PATH, no Maven, no FUSE tools, an empty ~/.m2) with only the repository copied in (the files
 * git knows, tracked or not ignored: no target/ directories), runs the README's two commands
 * verbatim, {@code scripts/setup} then {@code scripts/test}. It must end with daxfs mounted at
 * ~/daxfs and the tests passing.
 *
 * <p>What the machine brings: the JDK 25, which is not a Debian package, bind-mounted read-only
 * from the host at the same path under /usr/lib/jvm (as a CI machine comes with one), Debian's
 * mirror and Maven Central (both reached from the container through Docker's bridge), and the
 * machine's local CA certificates (/usr/local/share/ca-certificates: on these machines a TLS
 * proxy's, without which Maven cannot download), copied to the same place. Everything
 * else the scripts install themselves. The inner scripts/test runs with DAXFS_TEST_LIGHT=1 (set
 * in the container's environment, so the command stays verbatim): no container tests (no Docker
 * in Docker), no second front-end run, no jcstress and not the longest soaks; see docs/testing.md.
 * The output is in target/container-logs/fresh-machine.log.
 */
@Tag(ContainerSupport.TAG)
@ResourceLock("docker")
class FreshMachineTest {
    private static final String SRC = "/root/src/daxfs";
    private static final String LOCAL_CAS = "/usr/local/share/ca-certificates";
    private static final Pattern SUMMARY = Pattern.compile("(?m)^tests: (\\d+) passed, (\\d+) failed, (\\d+) skipped$");

    @Test
    @Timeout(value = 45, unit = TimeUnit.MINUTES)
    void readmeCommandsOnAFreshMachine() throws IOException {
        ContainerSupport.Images images = ContainerSupport.images();
        Path stage = stageRepository();
        try (GenericContainer<?> c = ContainerSupport.fuseContainer(images.base(), "fresh-machine")
                .withEnv("DAXFS_TEST_LIGHT", "1")
                .withSharedMemorySize(2L << 30)
                .withCopyFileToContainer(MountableFile.forHostPath(stage), SRC)) {
            // The machine's own CA certificates (e.g. of a TLS-intercepting egress proxy), which a
            // machine of this kind comes with: apt's ca-certificates and ca-certificates-java
            // (installed with Maven) put them into the trust stores, so Maven Central is reachable.
            try (var crts = Files.list(Path.of(LOCAL_CAS))) {
                for (Path crt : crts.filter(p -> p.toString().endsWith(".crt")).toList()) {
                    c.withCopyFileToContainer(MountableFile.forHostPath(crt), LOCAL_CAS + "/" + crt.getFileName());
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // no local CAs on this machine
            }
            c.start();
            String out = runOk(c, Duration.ofMinutes(1), "what the fresh machine lacks", """
                    for t in java mvn fusermount3 daxfs; do echo "has_$t=$(command -v $t >/dev/null && echo yes || echo no)"; done
                    echo "target_dirs=$(find %s -name target -type d | wc -l)"
                    """.formatted(SRC));
            for (String tool : List.of("java", "mvn", "fusermount3", "daxfs")) {
                assertEquals("no", value(out, "has_" + tool), tool + " must not be on the fresh machine before setup");
            }
            assertEquals("0", value(out, "target_dirs"), "only the sources are copied in");

            long t0 = System.nanoTime();
            runOk(c, Duration.ofMinutes(25), "scripts/setup on a fresh machine", "cd " + SRC + " && scripts/setup");
            long setupSeconds = (System.nanoTime() - t0) / 1_000_000_000L;
            out = runOk(c, Duration.ofMinutes(1), "the mount setup made", """
                    echo "fstype=$(findmnt -n -o FSTYPE --mountpoint /root/daxfs)"
                    echo hello > /root/daxfs/hello && echo "read=$(cat /root/daxfs/hello)"
                    """);
            assertEquals("fuse.daxfs", value(out, "fstype"), "scripts/setup leaves daxfs mounted at ~/daxfs");
            assertEquals("hello", value(out, "read"));

            long t1 = System.nanoTime();
            out = runOk(c, Duration.ofMinutes(40), "scripts/test on the fresh machine", "cd " + SRC + " && scripts/test");
            long testSeconds = (System.nanoTime() - t1) / 1_000_000_000L;
            Matcher m = SUMMARY.matcher(out);
            if (!m.find()) {
                fail("scripts/test printed no summary line:\n" + ContainerSupport.tail(out, 40));
            }
            assertEquals("0", m.group(2), "failed tests on the fresh machine:\n" + ContainerSupport.tail(out, 60));
            assertTrue(Long.parseLong(m.group(1)) > 0, "tests ran on the fresh machine");

            out = runOk(c, Duration.ofMinutes(1), "the mount after the tests", """
                    echo "fstype=$(findmnt -n -o FSTYPE --mountpoint /root/daxfs)"
                    echo "read=$(cat /root/daxfs/hello)"
                    umount /root/daxfs
                    """);
            assertEquals("fuse.daxfs", value(out, "fstype"), "~/daxfs is still mounted after scripts/test");
            assertEquals("hello", value(out, "read"));
            System.out.printf("fresh machine: scripts/setup %d s, scripts/test %d s (%s passed, %s skipped)%n", setupSeconds,
                    testSeconds, m.group(1), m.group(3));
        } finally {
            deleteTree(stage);
        }
    }

    /**
     * A copy of the repository as a clone would have it: the files git lists (tracked, and
     * untracked unless ignored), so no target/ directories and no .git. Without git, every
     * file except target/ and .git.
     */
    private static Path stageRepository() throws IOException {
        Path root = ContainerSupport.ROOT;
        Path stage = Files.createTempDirectory("daxfs-fresh-machine-");
        List<String> files = gitFiles(root);
        if (files == null) {
            files = new ArrayList<>();
            try (var walk = Files.walk(root)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path rel = root.relativize(p);
                    boolean skipped = false;
                    for (Path part : rel) {
                        skipped |= part.toString().equals("target") || part.toString().equals(".git");
                    }
                    if (!skipped && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        files.add(rel.toString());
                    }
                }
            }
        }
        for (String f : files) {
            Path from = root.resolve(f);
            if (!Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
                continue; // deleted in the work tree, not yet in the index
            }
            Path to = stage.resolve(f);
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        }
        return stage;
    }

    private static List<String> gitFiles(Path root) {
        try {
            Process p = new ProcessBuilder("git", "-C", root.toString(), "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0 || out.isEmpty()) {
                return null;
            }
            return List.of(out.split("\0"));
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static void deleteTree(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
