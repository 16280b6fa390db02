package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.PersistenceMode;
import io.daxfs.devdax.PmemRegion;

import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The explorer against broken copies of daxfs: each test runs a workload twice, once as it
 * is and once through a region that silently drops one kind of flush the journal or the data
 * path makes (the code still runs, the stores still land in memory, only the write-back is
 * missing). The intact run must be consistent and the broken one must not be: a test passes
 * when the explorer catches the missing flush and fails if it misses it.
 */
class DroppedFlushTest {
    private static final long SIZE = 16 * MIB;
    private static final int STATES = 400;
    private static final long SEED = TestDevice.seed("DroppedFlushTest");

    /**
     * Forwards every call of a region to its delegate but the flushes called from {@code method}
     * of {@code className} (matched on the caller's frame, past this handler's and the proxy's).
     * A proxy rather than a class that spells each method out: a method PmemRegion gains is
     * forwarded too.
     */
    static final class DroppingRegion implements InvocationHandler {
        private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
        private final PmemRegion delegate;
        private final String className;
        private final String method;
        final AtomicInteger dropped = new AtomicInteger();

        DroppingRegion(PmemRegion delegate, String className, String method) {
            this.delegate = delegate;
            this.className = className;
            this.method = method;
        }

        /** The region to hand to the file system. */
        PmemRegion region() {
            return (PmemRegion) Proxy.newProxyInstance(PmemRegion.class.getClassLoader(), new Class<?>[] {PmemRegion.class},
                    this);
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
            if (m.getName().equals("flush") && calledFromTheMethod()) {
                dropped.incrementAndGet();
                return null;
            }
            try {
                return m.invoke(delegate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        private boolean calledFromTheMethod() {
            return WALKER.walk(frames -> frames
                    .dropWhile(f -> f.getDeclaringClass() == DroppingRegion.class || Proxy.isProxyClass(f.getDeclaringClass()))
                    .findFirst()
                    .map(f -> f.getClassName().equals(className) && f.getMethodName().equals(method)).orElse(false));
        }
    }

    /** Records {@code script} (intact, or dropping the flushes of className.method) and explores it. */
    private static CrashExplorer.Result run(String name, Consumer<DaxFileSystem> before,
                                            Consumer<RecordedWorkload> script, String className, String method) {
        DroppingRegion[] wrapper = new DroppingRegion[1];
        try (RecordedWorkload w = RecordedWorkload.start(name, SIZE, FormatOptions.defaults(), before,
                PersistenceMode.CACHE_LINE_WRITEBACK,
                r -> className == null ? r : (wrapper[0] = new DroppingRegion(r, className, method)).region())) {
            script.accept(w);
            w.stop();
            if (wrapper[0] != null) {
                assertTrue(wrapper[0].dropped.get() > 0, "the workload makes no flush from " + className + "." + method);
            }
            CrashExplorer.Result r = CrashExplorer.explore(w, STATES, SEED, false);
            System.out.println(r.line());
            return r;
        }
    }

    /** The intact copy passes; the copy without the flushes of className.method fails. */
    private static void caught(String kind, Consumer<DaxFileSystem> before, Consumer<RecordedWorkload> script,
                               String className, String method) {
        CrashExplorer.Result intact = run(kind + " (intact)", before, script, null, null);
        assertEquals(0, intact.inconsistent(), () -> String.join("\n\n", intact.failures()));
        CrashExplorer.Result broken = run(kind + " (flush dropped)", before, script, className, method);
        assertTrue(broken.inconsistent() > 0, "the explorer missed the dropped flush of " + className + "." + method
                + ": " + broken.line());
        System.out.println("dropped " + kind + ", first finding: " + broken.failures().getFirst());
    }

    private static final String JOURNAL = "io.daxfs.core.journal.Journal";
    private static final String WRITER = "io.daxfs.core.data.FileWriter";

    /** A few namespace operations: each a transaction through the journal. */
    private static void namespaceOps(RecordedWorkload w) {
        w.ns("mkdir /d", f -> f.mkdir(ROOT, "d", 0755, 0, 0))
                .ns("create /d/a", f -> f.create(f.resolve("/d"), "a", 0644, 0, 0))
                .ns("rename /d/a -> /b", f -> f.rename(f.resolve("/d"), "a", ROOT, "b"))
                .ns("link /b as /d/c", f -> f.link(f.resolve("/b"), f.resolve("/d"), "c"))
                .ns("unlink /old", f -> f.unlink(ROOT, "old"))
                .ns("symlink /d/ln", f -> f.symlink(f.resolve("/d"), "ln", "../b", 0, 0));
    }

    private static void oldFile(DaxFileSystem pre) {
        write(pre, pre.create(ROOT, "old", 0644, 0, 0), 0, pattern(1, 0, 30_000));
    }

    /** Journal.commit writes the transaction into the slot, flushes it and fences: without the flush, the slot is not durable before its records are applied home. */
    @Test
    void theFlushOfTheJournalSlot() {
        caught("journal slot", DroppedFlushTest::oldFile, DroppedFlushTest::namespaceOps, JOURNAL, "commit");
    }

    /**
     * Journal.applyRecords flushes the home locations before the applied mark (once per run of
     * pages): without it the mark can outlive them.
     */
    @Test
    void theFlushOfTheJournalApply() {
        caught("journal apply", DroppedFlushTest::oldFile, DroppedFlushTest::namespaceOps, JOURNAL, "applyRecords");
    }

    /** FileWriter.fillNewBlocks flushes newly allocated blocks before the transaction that maps them. */
    @Test
    void theFlushOfNewDataBlocksBeforeTheirCommit() {
        caught("data before commit", pre -> pre.create(ROOT, "f", 0644, 0, 0), w -> {
            long f = w.fs().resolve("/f");
            w.on("write /f 20000 bytes", f, x -> write(x, f, 0, pattern(2, 0, 20_000)))
                    .fsync(f)
                    .on("append /f 9000 bytes", f, x -> write(x, f, 20_480, pattern(3, 0, 9000)))
                    .fsync(f);
        }, WRITER, "fillNewBlocks");
    }

    /** Journal.storeMax raises a size in place: store, flush, fence. Without the flush, a returned append loses its size. */
    @Test
    void theFlushOfASizeUpdate() {
        caught("size update", pre -> write(pre, pre.create(ROOT, "f", 0644, 0, 0), 0, pattern(4, 0, 100)), w -> {
            long f = w.fs().resolve("/f");
            w.on("append 100 bytes in the block", f, x -> write(x, f, 100, pattern(5, 0, 100)))
                    .on("append 1000 more", f, x -> write(x, f, 200, pattern(6, 0, 1000)))
                    .ns("create /g", x -> x.create(ROOT, "g", 0644, 0, 0));
        }, JOURNAL, "storeMax");
    }

    /** FileWriter.flushDirty writes back what was written in place, at fsync. */
    @Test
    void theFlushOfWrittenDataAtFsync() {
        caught("fsync data", pre -> write(pre, pre.create(ROOT, "f", 0644, 0, 0), 0, pattern(7, 0, 16_384)), w -> {
            long f = w.fs().resolve("/f");
            w.on("overwrite /f in place", f, x -> write(x, f, 1000, pattern(8, 0, 8000)))
                    .fsync(f)
                    .ns("create /g", x -> x.create(ROOT, "g", 0644, 0, 0));
        }, WRITER, "flushDirty");
    }

    /**
     * Journal.markApplied stores the applied sequence, flushes, fences. Without the flush, a
     * crash can replay a transaction that was applied already, over a size raised in place
     * after it: the size goes back.
     */
    @Test
    void theFlushOfTheAppliedMark() {
        caught("applied mark", pre -> pre.create(ROOT, "f", 0644, 0, 0), w -> {
            long f = w.fs().resolve("/f");
            w.on("write /f 1000 bytes (allocates: the size travels in the transaction)", f,
                            x -> write(x, f, 0, pattern(9, 0, 1000)))
                    .on("append 500 bytes in the block (size raised in place)", f, x -> write(x, f, 1000, pattern(10, 0, 500)))
                    .on("append 500 more", f, x -> write(x, f, 1500, pattern(11, 0, 500)));
        }, JOURNAL, "markApplied");
    }
}
