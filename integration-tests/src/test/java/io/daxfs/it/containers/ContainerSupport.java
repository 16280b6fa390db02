package io.daxfs.it.containers;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.HostConfig;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the container tests share: the images (built by scripts/lib/docker.sh from a local
 * Debian base, never pulled), a container that may mount FUSE, commands run in it with their
 * output kept in {@code integration-tests/target/container-logs}.
 *
 * <p>When Docker cannot be used the tests fail with the reason; they are never skipped.
 * scripts/test starts the engine and builds the images before Maven and passes their tags
 * ({@code -Ddaxfs.container.baseImage}, {@code -Ddaxfs.container.pgImage}) or the reason it
 * could not ({@code -Ddaxfs.container.error}). Run directly through Maven without them, the
 * tests run {@code scripts/lib/docker.sh up} themselves (which leaves an engine it started
 * running: {@code scripts/lib/docker.sh down} stops it).
 */
final class ContainerSupport {
    /** JUnit tag of the container tests: their own surefire execution runs them, once. */
    static final String TAG = "containers";

    static final Path ROOT = Path.of(System.getProperty("daxfs.root", "..")).toAbsolutePath().normalize();
    static final Path LOGS = Path.of(System.getProperty("daxfs.container.logs", "target/container-logs")).toAbsolutePath();

    record Images(String base, String pg) {
    }

    private static Images images;

    private ContainerSupport() {
    }

    private static String prop(String name) {
        return System.getProperty(name, "").strip();
    }

    /** The images of the tests; fails the test, with the reason, if Docker cannot be used. */
    static synchronized Images images() {
        if (images != null) {
            return images;
        }
        String error = prop("daxfs.container.error");
        if (!error.isEmpty()) {
            fail("the container tests need a Docker engine, and scripts/test could not provide one: " + error);
        }
        String base = prop("daxfs.container.baseImage");
        String pg = prop("daxfs.container.pgImage");
        if (base.isEmpty() || pg.isEmpty()) {
            Map<String, String> tags = dockerUp();
            base = tags.getOrDefault("base", "");
            pg = tags.getOrDefault("pg", "");
        }
        try {
            DockerClientFactory.instance().client();
        } catch (RuntimeException e) {
            fail("Testcontainers cannot use the Docker engine on /var/run/docker.sock: " + e.getMessage(), e);
        }
        for (String image : List.of(base, pg)) {
            try {
                DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            } catch (NotFoundException e) {
                fail("image " + image + " is not in the local Docker engine (nothing is pulled: scripts/lib/docker.sh up builds it)");
            }
        }
        images = new Images(base, pg);
        return images;
    }

    /** Runs scripts/lib/docker.sh up: engine up, images built; its "name=tag" lines. */
    private static Map<String, String> dockerUp() {
        Path script = ROOT.resolve("scripts/lib/docker.sh");
        try {
            Path out = Files.createTempFile("daxfs-docker-up", ".log");
            Process p = new ProcessBuilder(script.toString(), "up").redirectErrorStream(false)
                    .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail(script + " up did not finish within 15 minutes");
            }
            String text = Files.readString(out);
            Files.deleteIfExists(out);
            if (p.exitValue() != 0) {
                fail("the container tests need a Docker engine: " + script + " up failed (exit " + p.exitValue() + "):\n" + text);
            }
            Map<String, String> tags = new HashMap<>();
            text.lines().filter(l -> l.matches("[a-z]+=\\S+")).forEach(l -> tags.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
            return tags;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The JDK the tests run on (a JDK 25, not a Debian package): bind-mounted read-only into containers. */
    static Path hostJdk() {
        try {
            return Path.of(System.getProperty("java.home")).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the host's JDK appears in a container: the same path under /usr/lib/jvm, where the scripts look. */
    static String jdkInContainer() {
        Path jdk = hostJdk();
        return jdk.startsWith("/usr/lib/jvm/") ? jdk.toString() : "/usr/lib/jvm/host-jdk";
    }

    /**
     * A container of {@code image} that may mount FUSE ({@code --cap-add SYS_ADMIN --device
     * /dev/fuse}; {@code --privileged} fails on these machines) and has the capabilities of
     * root that the tests use and Docker drops (LINUX_IMMUTABLE, DAC_READ_SEARCH), with the host's JDK bind-mounted
     * read-only, idling in {@code sleep infinity} under Docker's init (tini, which reaps
     * orphaned processes); its output goes to target/container-logs/NAME.log.
     */
    static GenericContainer<?> fuseContainer(String image, String name) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                .withImagePullPolicy(imageName -> false)
                .withCreateContainerCmdModifier(cmd -> {
                    HostConfig hc = cmd.getHostConfig();
                    // SYS_ADMIN to mount; LINUX_IMMUTABLE (chattr +i/+a) and DAC_READ_SEARCH
                    // (open_by_handle_at), which root on a machine has and Docker leaves out
                    hc.withCapAdd(Capability.SYS_ADMIN, Capability.LINUX_IMMUTABLE, Capability.DAC_READ_SEARCH)
                            .withDevices(new Device("rwm", "/dev/fuse", "/dev/fuse"));
                    // docker --init: PID 1 reaps orphans (a detached daxfs daemon, a killed
                    // postmaster); sleep as PID 1 would leave zombies that look alive to kill -0.
                    hc.withInit(true);
                })
                .withFileSystemBind(hostJdk().toString(), jdkInContainer(), BindMode.READ_ONLY)
                .withCommand("sleep", "infinity")
                .withStartupTimeout(Duration.ofMinutes(2))
                .withLogConsumer(logTo(name));
        return c;
    }

    /** Adds a bind mount with a propagation mode (shared/slave), which withFileSystemBind cannot express. */
    static void addBind(GenericContainer<?> c, Bind bind) {
        c.withCreateContainerCmdModifier(cmd -> {
            HostConfig hc = cmd.getHostConfig();
            List<Bind> binds = new ArrayList<>(hc.getBinds() == null ? List.of() : Arrays.asList(hc.getBinds()));
            binds.add(bind);
            hc.withBinds(binds);
        });
    }

    /** Appends a container's output (stdout and stderr) to target/container-logs/NAME.log. */
    static Consumer<OutputFrame> logTo(String name) {
        Path file = logFile(name);
        return frame -> {
            byte[] bytes = frame.getBytes();
            if (bytes == null) {
                return;
            }
            try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                out.write(bytes);
            } catch (IOException e) {
                // the log is for people; a failed write must not fail the test
            }
        };
    }

    static Path logFile(String name) {
        try {
            Files.createDirectories(LOGS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return LOGS.resolve(name + ".log");
    }

    /**
     * Runs {@code script} with bash in the container under a time limit, its output also copied
     * to the container's log (so target/container-logs shows it as it runs).
     */
    static Container.ExecResult run(GenericContainer<?> c, Duration limit, String script) {
        String wrapped = "exec > >(tee -a /proc/1/fd/1) 2> >(tee -a /proc/1/fd/2 >&2)\n"
                + "echo \"+ $(date '+%T') " + script.lines().findFirst().orElse("").replace("\"", "\\\"").replace("$", "\\$") + "\" >&2\n"
                + script;
        try {
            return c.execInContainer("timeout", "-k", "30", Long.toString(limit.toSeconds()), "bash", "-c", wrapped);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@link #run}, failing the test (with the output) unless it exits 0; returns stdout. */
    static String runOk(GenericContainer<?> c, Duration limit, String what, String script) {
        Container.ExecResult r = run(c, limit, script);
        if (r.getExitCode() != 0) {
            fail(what + ": exit " + r.getExitCode() + (r.getExitCode() == 124 ? " (timed out after " + limit + ")" : "")
                    + "\n--- stdout (end):\n" + tail(r.getStdout(), 60) + "\n--- stderr (end):\n" + tail(r.getStderr(), 40));
        }
        return r.getStdout();
    }

    /** The value of "key=value" on a line of {@code out}; fails if there is none. */
    static String value(String out, String key) {
        return out.lines().filter(l -> l.startsWith(key + "=")).reduce((a, b) -> b).map(l -> l.substring(key.length() + 1).strip())
                .orElseGet(() -> fail("no " + key + "= in the output:\n" + tail(out, 40)));
    }

    static long number(String out, String key) {
        String v = value(out, key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return fail(key + "=" + v + " is not a number; output:\n" + tail(out, 40));
        }
    }

    static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Host shell command as root (mount setup of the shared directory); fails unless it exits 0. */
    static String host(String command) {
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("timed out: " + command);
            }
            assertEquals(0, p.exitValue(), command + ":\n" + out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Host shell command whose failure is only reported (cleanup). */
    static void hostQuiet(String command) {
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true).start();
            p.getInputStream().transferTo(OutputStream.nullOutputStream());
            p.waitFor(2, TimeUnit.MINUTES);
        } catch (IOException e) {
            System.err.println("cleanup: " + command + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String q(Object s) {
        return "'" + s.toString().replace("'", "'\\''") + "'";
    }
}
