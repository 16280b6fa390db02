package io.daxfs.fuse.mount;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * Checks a mount point before libfuse sees it. fuse_setup reports failures only as NULL plus a line
 * on stderr, so the common mistakes get a precise exception here instead.
 */
public final class MountPointCheck {
    private MountPointCheck() {
    }

    /** Returns the mount point as libfuse will use it: absolute, symlinks resolved (realpath). */
    public static Path validate(Path mountPoint, List<String> fuseArgs) {
        Path canonical;
        try {
            BasicFileAttributes attrs = Files.readAttributes(mountPoint, BasicFileAttributes.class);
            if (!attrs.isDirectory()) {
                throw new FuseMountException("mount point " + mountPoint + " is not a directory");
            }
            canonical = mountPoint.toRealPath();
        } catch (NoSuchFileException e) {
            throw new FuseMountException("mount point " + mountPoint + " does not exist", e);
        } catch (IOException e) {
            // e.g. "Transport endpoint is not connected" for the remains of a crashed FUSE daemon
            throw new FuseMountException("cannot use mount point " + mountPoint + ": " + e, e);
        }
        MountTable.find(canonical).ifPresent(m -> {
            throw new FuseMountException("mount point " + canonical + " is busy: " + m.fsType() + " "
                    + m.source() + " is already mounted there");
        });
        if (!allowsNonEmpty(fuseArgs) && !isEmpty(canonical)) {
            throw new FuseMountException("mount point " + canonical
                    + " is not empty (libfuse 2 refuses it unless -o nonempty is given)");
        }
        return canonical;
    }

    private static boolean allowsNonEmpty(List<String> fuseArgs) {
        return fuseArgs.stream()
                .map(a -> a.startsWith("-o") ? a.substring(2) : a) // "-o", "a,b" or "-oa,b"
                .anyMatch(a -> List.of(a.split(",")).contains("nonempty"));
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        } catch (IOException e) {
            throw new FuseMountException("cannot list mount point " + dir + ": " + e, e);
        }
    }
}
