package io.daxfs.core.check;

import java.util.ArrayList;
import java.util.List;

/**
 * What a check found. Exit codes follow e2fsck: 0 clean, 4 errors left uncorrected,
 * 8 operational error (the device could not be checked).
 */
public final class FsckReport {
    public static final int CLEAN = 0;
    public static final int ERRORS = 4;
    public static final int COULD_NOT_CHECK = 8;

    private final List<String> errors = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private String fatal;
    private long inodes;
    private long directories;
    private long files;
    private long usedBlocks;
    private long freeBlocks;

    void error(String message) {
        errors.add(message);
    }

    void note(String message) {
        notes.add(message);
    }

    void fatal(String message) {
        fatal = message;
    }

    void counts(long inodes, long directories, long files, long usedBlocks, long freeBlocks) {
        this.inodes = inodes;
        this.directories = directories;
        this.files = files;
        this.usedBlocks = usedBlocks;
        this.freeBlocks = freeBlocks;
    }

    public List<String> errors() {
        return List.copyOf(errors);
    }

    public List<String> notes() {
        return List.copyOf(notes);
    }

    public String fatal() {
        return fatal;
    }

    public boolean clean() {
        return fatal == null && errors.isEmpty();
    }

    public int exitCode() {
        return fatal != null ? COULD_NOT_CHECK : errors.isEmpty() ? CLEAN : ERRORS;
    }

    /** Human-readable summary, one finding per line. */
    public String render() {
        StringBuilder b = new StringBuilder();
        if (fatal != null) {
            b.append("daxfs fsck: cannot check: ").append(fatal).append('\n');
            return b.toString();
        }
        for (String n : notes) {
            b.append("note: ").append(n).append('\n');
        }
        int shown = 0;
        for (String e : errors) {
            if (shown++ == 200) {
                b.append("error: ... and ").append(errors.size() - 200).append(" more\n");
                break;
            }
            b.append("error: ").append(e).append('\n');
        }
        b.append(String.format("%d inodes (%d directories, %d other), %d blocks used, %d free: %s%n",
                inodes, directories, files, usedBlocks, freeBlocks,
                errors.isEmpty() ? "clean" : errors.size() + " error(s)"));
        return b.toString();
    }
}
