package io.daxfs.fuse.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of the daemon that {@code daxfs mount} starts detached: the same as {@code daxfs
 * mount --foreground TARGET DIR -o ...}, without picocli. Its arguments come from
 * {@link #arguments} in the parent, never from a user, so they need no parsing beyond their
 * positions; and skipping picocli's reflective set-up takes about 150 ms off every mount (its
 * classes do not go into the AOT cache: docs/scripts.md, DaemonStartupCache).
 */
public final class DaemonMain {
    private DaemonMain() {
    }

    /** The command-line arguments after the class name: TARGET DIR [OPTION-LIST...]. */
    static List<String> arguments(Path target, Path dir, List<String> optionLists) {
        List<String> args = new ArrayList<>();
        args.add(DaemonMain.class.getName());
        args.add(target.toString());
        args.add(dir.toString());
        args.addAll(optionLists);
        return args;
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.exit(DaxfsCommand.fail("mount", "usage: DaemonMain TARGET DIR [OPTIONS...] (started by daxfs mount)"));
        }
        System.exit(MountCommand.serveInForeground(Path.of(args[0]), Path.of(args[1]),
                List.of(args).subList(2, args.length)));
    }
}
