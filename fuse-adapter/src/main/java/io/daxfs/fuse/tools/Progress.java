package io.daxfs.fuse.tools;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A progress bar on standard error (me.tongfei:progressbar) for a long operation, or nothing at
 * all when standard error is not a terminal (a log file, a pipe, a test), when TERM is "dumb",
 * or when DAXFS_PROGRESS=0. An operation whose length is not known in advance (fsck) starts its
 * bar only after {@link #delayMillis()}.
 */
public final class Progress implements AutoCloseable {
    private static final Progress NONE = new Progress(null);
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar for {@code task} going to {@code max} units of {@code unitName} ({@code unitSize} each), if wanted. */
    public static Progress start(String task, long max, String unitName, long unitSize) {
        if (!wanted()) {
            return NONE;
        }
        return new Progress(new ProgressBarBuilder().setTaskName(task).setInitialMax(max)
                .setStyle(ProgressBarStyle.UNICODE_BLOCK).setUnit(unitName, unitSize).setUpdateIntervalMillis(100)
                .setMaxRenderedLength(100).build());
    }

    /** No bar. */
    public static Progress none() {
        return NONE;
    }

    /** True if a bar would be shown now. */
    public static boolean wanted() {
        return !"0".equals(System.getenv("DAXFS_PROGRESS")) && !"dumb".equals(System.getenv("TERM"))
                && stderrIsTerminal();
    }

    /**
     * How long an operation of unknown length runs before it shows a bar: 1,000 ms, or
     * DAXFS_PROGRESS_AFTER_MS (0 shows it at once: what the tests of the bar use).
     */
    public static long delayMillis() {
        String v = System.getenv("DAXFS_PROGRESS_AFTER_MS");
        try {
            return v == null || v.isBlank() ? 1000 : Math.max(0, Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            return 1000;
        }
    }

    public void stepTo(long done) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    /** {@code done} of a total known only now. */
    public void stepTo(long done, long total) {
        if (bar != null) {
            bar.maxHint(total);
            bar.stepTo(done);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(2) == 1;
        } catch (Throwable e) {
            return false; // no native access: no bar
        }
    }
}
