package io.daxfs.fuse.libfuse;

/** Splits the absolute paths libfuse hands us into parent path and last component. */
final class PathNames {
    private PathNames() {
    }

    /** "/a/b" -> "/a"; "/a" -> "/". */
    static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    /** "/a/b" -> "b". */
    static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
