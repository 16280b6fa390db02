package io.daxfs.fuse.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run by the build (exec-maven-plugin, fuse-adapter/pom.xml), not by users: writes the man pages
 * (AsciiDoc, by picocli-codegen's ManPageGenerator; the build turns them into troff) and the
 * bash completion script (picocli's AutoComplete), both from the same model the command runs
 * with ({@link DaxfsCommand#commandLine()}), so they cannot drift from the options.
 * picocli-codegen is a dependency of that plugin execution only, never of daxfs.jar: it is
 * called by reflection.
 *
 * <p>Arguments: the directory for the AsciiDoc pages, the completion script's path.
 */
public final class BuildDocs {
    private BuildDocs() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: BuildDocs ADOC-DIR COMPLETION-FILE");
        }
        CommandLine cl = DaxfsCommand.commandLine();
        Path adoc = Path.of(args[0]);
        Files.createDirectories(adoc);
        Method generate = Class.forName("picocli.codegen.docgen.manpage.ManPageGenerator").getMethod("generateManPage",
                File.class, File.class, boolean[].class, boolean.class, CommandSpec[].class);
        int status = (int) generate.invoke(null, adoc.toFile(), null, new boolean[0], true,
                new CommandSpec[] {cl.getCommandSpec()});
        if (status != 0) {
            throw new IOException("ManPageGenerator failed with status " + status);
        }
        Path completion = Path.of(args[1]);
        Files.createDirectories(completion.toAbsolutePath().getParent());
        Files.writeString(completion, AutoComplete.bash("daxfs", cl));
    }
}
