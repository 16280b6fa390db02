package io.daxfs.core.check;

import io.daxfs.core.format.CorruptFileSystemException;

import java.util.ArrayList;
import java.util.List;

/**
 * What a check found, and with {@code fsck -y} what was repaired. Exit codes follow e2fsck:
 * 0 clean, 1 errors found and all repaired, 4 errors left uncorrected, 8 operational error
 * (the device could not be checked, or a repair could not be written).
 *
 * <p>Every line it holds is one printable line ({@link CorruptFileSystemException#oneLine}):
 * names read from damaged metadata may hold control characters.
 */
public final class FsckReport {
    public static final int CLEAN = 0;
    public static final int REPAIRED = 1;
    public static final int ERRORS = 4;
    public static final int COULD_NOT_CHECK = 8;

    private final List<String> errors = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> repairs = new ArrayList<>();
    private final List<String> left = new ArrayList<>();
    private boolean repairMode;
    private String fatal;
    private long inodes;
    private long directories;
    private long files;
    private long usedBlocks;
    private long freeBlocks;

    private static String oneLine(String s) {
        return CorruptFileSystemException.oneLine(s);
    }

    void error(String message) {
        errors.add(oneLine(message));
    }

    void note(String message) {
        notes.add(oneLine(message));
    }

    void fatal(String message) {
        fatal = oneLine(message);
    }

    /** A finding and what {@code fsck -y} did about it. */
    void repaired(String finding, String action) {
        repairs.add(oneLine(finding + ": " + action));
    }

    /** After a repair: what the check that follows it still finds. */
    void leftDamaged(List<String> findings) {
        findings.forEach(f -> left.add(oneLine(f)));
    }

    void repairMode() {
        repairMode = true;
    }

    void counts(long inodes, long directories, long files, long usedBlocks, long freeBlocks) {
        this.inodes = inodes;
        this.directories = directories;
        this.files = files;
        this.usedBlocks = usedBlocks;
        this.freeBlocks = freeBlocks;
    }

    /** Takes the counts of {@code other} (the check after a repair). */
    void countsOf(FsckReport other) {
        counts(other.inodes, other.directories, other.files, other.usedBlocks, other.freeBlocks);
    }

    public List<String> errors() {
        return List.copyOf(errors);
    }

    public List<String> notes() {
        return List.copyOf(notes);
    }

    /** What fsck -y did, one line per finding: "finding: action". */
    public List<String> repairs() {
        return List.copyOf(repairs);
    }

    /** After a repair, what is still wrong (empty when the repair succeeded). */
    public List<String> leftDamaged() {
        return List.copyOf(left);
    }

    public String fatal() {
        return fatal;
    }

    /** Nothing wrong: no finding (a repair that found something is not clean, though it may have fixed all). */
    public boolean clean() {
        return fatal == null && errors.isEmpty() && left.isEmpty();
    }

    public int exitCode() {
        if (fatal != null) {
            return COULD_NOT_CHECK;
        }
        if (!repairMode) {
            return errors.isEmpty() ? CLEAN : ERRORS;
        }
        if (!left.isEmpty()) {
            return ERRORS;
        }
        return errors.isEmpty() && repairs.isEmpty() ? CLEAN : REPAIRED;
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
        List<String> shown = repairMode ? repairs : errors;
        String prefix = repairMode ? "fixed: " : "error: ";
        for (int i = 0; i < shown.size(); i++) {
            if (i == 500) {
                b.append(prefix).append("... and ").append(shown.size() - 500).append(" more\n");
                break;
            }
            b.append(prefix).append(shown.get(i)).append('\n');
        }
        for (String l : left) {
            b.append("left damaged: ").append(l).append('\n');
        }
        String verdict;
        if (!repairMode) {
            verdict = errors.isEmpty() ? "clean" : errors.size() + " error(s)";
        } else if (!left.isEmpty()) {
            verdict = repairs.size() + " repair(s), " + left.size() + " error(s) left";
        } else {
            verdict = repairs.isEmpty() ? "clean" : repairs.size() + " repair(s); now clean";
        }
        b.append(String.format("%d inodes (%d directories, %d other), %d blocks used, %d free: %s%n",
                inodes, directories, files, usedBlocks, freeBlocks, verdict));
        return b.toString();
    }
}
