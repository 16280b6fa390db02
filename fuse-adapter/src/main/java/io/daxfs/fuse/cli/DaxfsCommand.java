package io.daxfs.fuse.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** The `daxfs` command: one entry point, a subcommand per job. */
@Command(name = "daxfs", mixinStandardHelpOptions = true, versionProvider = DaxfsVersion.class,
        description = "A file system that keeps all data and metadata in persistent memory (a /dev/dax device or an image file).",
        footer = {"", "Exit status: 0 success, 1 failure, 2 wrong arguments (fsck: 0 clean, 1 repaired, 4 errors left, 8 could not check).",
            "Operations and sample output: docs/operations.md."},
        subcommands = {MkfsCommand.class, MountCommand.class, FsckCommand.class, InfoCommand.class, FreespCommand.class,
            MapCommand.class, LeaseCommand.class, StatCommand.class, CommandLine.HelpCommand.class})
public final class DaxfsCommand implements Runnable {
    /** Exit status of a usage error: wrong or missing arguments or options. */
    static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line as users get it: every subcommand answers {@code --version} like the top
     * command, and a usage error is one line on stderr with the hint to {@code --help}, exit
     * status 2. The man pages and shell completion are generated from this same model.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new DaxfsCommand());
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommandSpec().version().length == 0) {
                sub.getCommandSpec().versionProvider(new DaxfsVersion());
            }
        }
        cl.setParameterExceptionHandler(DaxfsCommand::usageError);
        return cl;
    }

    /** One line: "daxfs mkfs: Missing required parameter: 'TARGET' (see 'daxfs mkfs --help')". */
    static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        String message = e.getMessage().replace('\n', ' ').strip();
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            message += "; did you mean " + String.join(" or ", u.getSuggestions().subList(0,
                    Math.min(3, u.getSuggestions().size()))) + "?";
        }
        PrintWriter err = cmd.getErr();
        err.println(name + ": " + message + " (see '" + name + " --help')");
        err.flush();
        return USAGE;
    }

    /** Prints "daxfs CMD: message" to stderr and returns 1. */
    static int fail(String command, String message) {
        System.err.println("daxfs " + command + ": " + message);
        return 1;
    }
}
