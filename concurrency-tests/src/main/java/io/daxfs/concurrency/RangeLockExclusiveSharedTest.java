package io.daxfs.concurrency;

import io.daxfs.core.concurrent.RangeLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * An exclusive request ([0, 10), a truncate) and a shared one ([5, 15), a read) over
 * overlapping ranges are never inside together. The writer sets two plain fields x then y;
 * the reader reads y then x. Only the lock orders them, so a reader that saw half of the
 * writer's update (or reordered reads) was inside at the same time. r1 = y, r2 = x as the
 * reader saw them; r3 = 1 if the lock was empty afterwards. Both critical sections are widened
 * ({@link Spin#window()}) so that an overlap, if the lock ever allowed one, is observed often.
 */
@JCStressTest
@Description("RangeLock: an exclusive and an overlapping shared range are never both held")
@Outcome(id = {"0, 0, 1", "1, 1, 1"}, expect = ACCEPTABLE, desc = "reader entirely before or after the writer")
@Outcome(id = {"0, 1, 1", "1, 0, 1"}, expect = FORBIDDEN, desc = "reader inside while the writer was: torn pair")
@Outcome(expect = FORBIDDEN, desc = "lock not empty after both released")
@State
public class RangeLockExclusiveSharedTest {
    private final RangeLock lock = new RangeLock();
    private int x;
    private int y;

    @Actor
    public void writer() {
        try (RangeLock.Range ignored = lock.lockExclusive(0, 10)) {
            x = 1;
            Spin.window();
            y = 1;
        }
    }

    @Actor
    public void reader(III_Result r) {
        try (RangeLock.Range ignored = lock.lockShared(5, 15)) {
            r.r1 = y;
            Spin.window();
            r.r2 = x;
        }
    }

    @Arbiter
    public void arbiter(III_Result r) {
        r.r3 = lock.queued() == 0 ? 1 : 0;
    }
}
