package io.daxfs.it.soak;

/**
 * One operation of the kill -9 soak's workload: what the planner chose, what the worker
 * executes and logs, and what the model applies. Paths are relative to the worker's own
 * directory on the mount; names never contain a tab or a newline, so an op is one line of a
 * plan file ({@link #line()}, {@link #parse}).
 *
 * <p>Fields by kind ({@code x}, {@code y}, {@code seed} are numbers, unused ones 0):
 * <pre>
 * CREATE    path, x = mode                     open(O_CREAT|O_EXCL|O_WRONLY, mode), close
 * WRITE     path, x = offset, y = length, seed, fsync     open(O_WRONLY), pwrite, [fsync], close
 * TRUNCATE  path, x = size                     truncate(2)
 * UNLINK    path                               unlink(2)
 * MKDIR     path, x = mode                     mkdir(2)
 * RMDIR     path                               rmdir(2)
 * RENAME    path, path2                        rename(2): also over an existing file or empty directory
 * EXCHANGE  path, path2                        renameat2(RENAME_EXCHANGE)
 * NOREPLACE path, path2                        renameat2(RENAME_NOREPLACE)
 * LINK      path (existing), path2 (new)       link(2)
 * SYMLINK   path (the link), path2 (target)    symlink(2)
 * SETXATTR  path, path2 = name, y = length, seed   setxattr(2)
 * RMXATTR   path, path2 = name                 removexattr(2)
 * CHMOD     path, x = mode                     chmod(2)
 * UTIMENS   path, x = seconds, y = nanoseconds utimensat(2): atime and mtime
 * OPEN      path, handle                       open(O_RDWR), kept open as handle N
 * FWRITE    handle, x = offset, y = length, seed, fsync    pwrite, [fsync] on an open handle
 * CLOSE     handle                             close(2) of the handle
 * </pre>
 */
record SoakOp(Kind kind, String path, String path2, long x, long y, long seed, int handle, boolean fsync) {
    enum Kind {
        CREATE, WRITE, TRUNCATE, UNLINK, MKDIR, RMDIR, RENAME, EXCHANGE, NOREPLACE, LINK, SYMLINK, SETXATTR,
        RMXATTR, CHMOD, UTIMENS, OPEN, FWRITE, CLOSE
    }

    static SoakOp of(Kind kind, String path) {
        return new SoakOp(kind, path, null, 0, 0, 0, -1, false);
    }

    static SoakOp of(Kind kind, String path, String path2) {
        return new SoakOp(kind, path, path2, 0, 0, 0, -1, false);
    }

    static SoakOp withNumber(Kind kind, String path, long x) {
        return new SoakOp(kind, path, null, x, 0, 0, -1, false);
    }

    /** Whether the op writes file data: in flight at the kill, each of its bytes may be old or new. */
    boolean writesData() {
        return kind == Kind.WRITE || kind == Kind.FWRITE;
    }

    String line() {
        return kind + "\t" + dash(path) + "\t" + dash(path2) + "\t" + x + "\t" + y + "\t" + seed + "\t" + handle + "\t"
                + (fsync ? 1 : 0);
    }

    static SoakOp parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 8) {
            throw new IllegalArgumentException("not an op line: " + line);
        }
        return new SoakOp(Kind.valueOf(f[0]), undash(f[1]), undash(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
                Long.parseLong(f[5]), Integer.parseInt(f[6]), f[7].equals("1"));
    }

    private static String dash(String s) {
        return s == null ? "-" : s;
    }

    private static String undash(String s) {
        return s.equals("-") ? null : s;
    }

    /** Human-readable, for reports. */
    @Override
    public String toString() {
        return switch (kind) {
            case CREATE, MKDIR, CHMOD -> kind + " " + path + " mode " + Long.toOctalString(x);
            case WRITE -> kind + " " + path + " [" + x + ", +" + y + ") seed " + seed + (fsync ? " fsync" : "");
            case FWRITE -> kind + " handle " + handle + " [" + x + ", +" + y + ") seed " + seed + (fsync ? " fsync" : "");
            case TRUNCATE -> kind + " " + path + " to " + x;
            case UNLINK, RMDIR -> kind + " " + path;
            case RENAME, EXCHANGE, NOREPLACE, LINK -> kind + " " + path + " -> " + path2;
            case SYMLINK -> kind + " " + path + " (target " + path2 + ")";
            case SETXATTR -> kind + " " + path + " " + path2 + " (" + y + " bytes, seed " + seed + ")";
            case RMXATTR -> kind + " " + path + " " + path2;
            case UTIMENS -> kind + " " + path + " " + x + "." + String.format("%09d", y);
            case OPEN -> kind + " " + path + " as handle " + handle;
            case CLOSE -> kind + " handle " + handle;
        };
    }

    /** The bytes a WRITE, FWRITE or SETXATTR puts down: a function of seed and length only (splitmix64). */
    static byte[] data(long seed, int length) {
        byte[] b = new byte[length];
        long s = seed * 0x9E3779B97F4A7C15L + length;
        for (int i = 0; i < length; i += 8) {
            s += 0x9E3779B97F4A7C15L;
            long z = s;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            for (int k = 0; k < 8 && i + k < length; k++) {
                b[i + k] = (byte) (z >>> (8 * k));
            }
        }
        return b;
    }
}
