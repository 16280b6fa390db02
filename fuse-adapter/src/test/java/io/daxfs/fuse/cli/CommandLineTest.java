package io.daxfs.fuse.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conventions every subcommand follows: the build's version, one-line usage errors with exit status 2. */
class CommandLineTest {
    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = DaxfsCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void everySubcommandPrintsTheBuildsVersion() {
        assertTrue(DaxfsVersion.version().matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), DaxfsVersion.version());
        for (String sub : DaxfsCommand.commandLine().getSubcommands().keySet()) {
            if (sub.equals("help")) {
                continue;
            }
            Run r = run(sub, "--version");
            assertEquals(0, r.exit(), sub);
            assertTrue(r.out().startsWith("daxfs " + DaxfsVersion.version() + "\non-media format version 2\n"), sub + ": " + r);
        }
    }

    @Test
    void usageErrorsAreOneLineWithTheHint() {
        for (List<String> args : List.<List<String>>of(List.of(), List.of("nosuch"), List.of("info"), List.of("info", "--nope", "x"),
                List.of("map", "x"), List.of("mkfs", "--size"), List.of("freesp", "a", "b"))) {
            Run r = run(args.toArray(String[]::new));
            assertEquals(DaxfsCommand.USAGE, r.exit(), args + ": " + r);
            assertEquals("", r.out(), args + ": " + r);
            assertEquals(1, r.err().lines().count(), args + ": " + r);
            assertTrue(r.err().matches("daxfs( \\w+)?: .* \\(see 'daxfs( \\w+)? --help'\\)\\R"), args + ": " + r);
        }
        assertTrue(run("inof").err().contains("did you mean info?"));
    }
}
