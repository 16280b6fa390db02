package io.daxfs.fuse.cli;

import io.daxfs.fuse.tools.DeviceMap;
import io.daxfs.fuse.tools.MapPicture;
import io.daxfs.fuse.tools.Sizes;
import io.daxfs.fuse.tools.ToolException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "map", mixinStandardHelpOptions = true,
        description = {"Draw a picture of the device: the metadata areas, free space, directories, and one colour per "
            + "file for the largest files (with a legend), so fragmentation is seen at a glance.",
            "Read-only, like info. Busy extents (freed blocks a running daemon still holds for a read or a lease) exist "
                + "only in the daemon's memory: the picture shows the block bitmap, where they are already free."},
        footer = {"", "Exit status: 0 written, 1 cannot read TARGET or write FILE, 2 wrong arguments."})
final class MapCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TARGET|MOUNT", description = "A device, an image file, or the mount point of a daxfs.")
    Path target;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE.png|FILE.svg",
            description = "The picture to write: PNG or SVG, by the name's ending.")
    Path out;

    @Option(names = "--files", paramLabel = "N", defaultValue = "12",
            description = "How many of the largest files get a colour of their own (0 to 18; "
                    + "default: ${DEFAULT-VALUE}).")
    int files;

    @Override
    public Integer call() {
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".png") && !name.endsWith(".svg")) {
            throw new ParameterException(spec.commandLine(), "--out must end in .png or .svg: " + out);
        }
        if (files < 0 || files > MapPicture.MAX_FILES) {
            throw new ParameterException(spec.commandLine(), "--files must be 0 to " + MapPicture.MAX_FILES + ": " + files);
        }
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            return DaxfsCommand.fail("map", "cannot write " + out + ": directory " + dir + " does not exist");
        }
        System.setProperty("java.awt.headless", "true");
        try (Inspected in = Inspected.open(target)) {
            DeviceMap map = DeviceMap.build(in.inspection(), files);
            var sb = in.inspection().superblock();
            String title = "daxfs map of " + in.target().device() + (sb.label().isEmpty() ? "" : " (" + sb.label() + ")");
            String subtitle = Sizes.bytes(in.device().device().size()) + ", " + Sizes.count(sb.geometry().totalBlocks())
                    + " blocks of 4 KiB; " + Sizes.percent(in.inspection().blocks().dataUsed(),
                    sb.geometry().dataBlocks()) + " of the data area in use; "
                    + (in.device().live() ? "read while " + (in.target().mounted() ? "mounted" : "another process holds it")
                    + " (a snapshot); busy extents show as free"
                    : "offline: busy extents exist only in a running daemon");
            MapPicture picture = new MapPicture(map, title, subtitle);
            try {
                picture.write(out);
            } catch (IOException e) {
                return DaxfsCommand.fail("map", "cannot write " + out + ": " + e.getMessage());
            }
            var size = picture.size();
            System.out.printf("daxfs map: wrote %s (%dx%d, %s per cell, %d of the largest files in colour)%n", out,
                    size.width, size.height, Sizes.bytes(map.blocksPerCell() * 4096), map.files().size());
            return 0;
        } catch (ToolException e) {
            return DaxfsCommand.fail("map", e.getMessage());
        }
    }
}
