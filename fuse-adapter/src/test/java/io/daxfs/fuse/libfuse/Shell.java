package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.MountTable;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs {@code sh -c} in a separate process, as a user of the mount would. */
final class Shell {
    record Result(int exitCode, String stdout, String stderr) {
        Result ok() {
            if (exitCode != 0) {
                throw new AssertionError("exit code " + exitCode + ", stderr: " + stderr);
            }
            return this;
        }
    }

    private Shell() {
    }

    static Process start(Path dir, String command) {
        try {
            return new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Result run(Path dir, String command) {
        return await(start(dir, command), command, Duration.ofSeconds(60));
    }

    static Result await(Process p, String what, Duration timeout) {
        try {
            p.getOutputStream().close();
            // drain both pipes while waiting, so a chatty process cannot block on a full pipe
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + what);
            }
            return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot read output of " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (in) {
                result.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                result.completeExceptionally(e);
            }
        }, "shell-drain");
        t.setDaemon(true);
        t.start();
        return result;
    }

    static boolean isMounted(Path mountPoint) {
        return MountTable.isMountPoint(mountPoint);
    }
}
