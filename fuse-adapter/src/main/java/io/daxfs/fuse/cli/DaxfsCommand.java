package io.daxfs.fuse.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `daxfs` command: one entry point, a subcommand per job. */
@Command(name = "daxfs", mixinStandardHelpOptions = true, version = "daxfs 0.1.0",
        description = "A file system that keeps all data and metadata in persistent memory (a /dev/dax device or an image file).",
        subcommands = {MkfsCommand.class, MountCommand.class, FsckCommand.class, LeaseCommand.class, StatCommand.class,
            CommandLine.HelpCommand.class})
public final class DaxfsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        int code = new CommandLine(new DaxfsCommand()).execute(args);
        System.exit(code);
    }

    /** Prints "daxfs CMD: message" to stderr and returns 1. */
    static int fail(String command, String message) {
        System.err.println("daxfs " + command + ": " + message);
        return 1;
    }
}
