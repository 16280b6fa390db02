package io.daxfs.it.soak;

import io.daxfs.it.ItAccess;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The checker's side of one {@link SoakWorker} process: start, commands, answers with a time limit, stop. */
final class SoakWorkerProcess implements AutoCloseable {
    private final Process process;
    private final Writer in;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final Path stderr;

    SoakWorkerProcess(Path stderr) {
        this.stderr = stderr;
        ProcessBuilder pb = new ProcessBuilder(ItAccess.javaCommand(SoakWorker.class, List.of()))
                .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a soak worker", e);
        }
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    answers.add(line);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
            answers.add("EOF");
        }, "soak-worker-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    void send(String command) {
        try {
            in.write(command + "\n");
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("soak worker " + process.pid() + " does not take commands: " + stderrText(), e);
        }
    }

    /** The next answer, which must start with {@code prefix}. */
    String await(String prefix, long seconds) throws InterruptedException {
        String a = answers.poll(seconds, TimeUnit.SECONDS);
        if (a == null) {
            throw new IllegalStateException("soak worker " + process.pid() + " did not answer " + prefix + " within "
                    + seconds + " s; stderr: " + stderrText());
        }
        if (!a.startsWith(prefix)) {
            throw new IllegalStateException("soak worker " + process.pid() + " answered '" + a + "', expected " + prefix
                    + "; stderr: " + stderrText());
        }
        return a;
    }

    boolean alive() {
        return process.isAlive();
    }

    String stderrText() {
        try {
            return Files.exists(stderr) ? Files.readString(stderr).strip() : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                send("EXIT");
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (RuntimeException | InterruptedException ignored) {
            // killed below
        } finally {
            process.destroyForcibly();
        }
    }
}
