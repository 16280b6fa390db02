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
 * Two exclusive requests over overlapping ranges ([0, 10) and [5, 15)) never hold at the
 * same time. Each increments a plain (non-volatile) counter inside and records the value it
 * read; only the lock orders those accesses. r1, r2: what each actor saw; r3: final counter.
 * The read and the write are a few hundred nanoseconds apart ({@link Spin#window()}) so that
 * overlapping critical sections, if the lock ever allowed them, are observed often.
 */
@JCStressTest
@Description("RangeLock: overlapping exclusive ranges are mutually exclusive")
@Outcome(id = {"0, 1, 2", "1, 0, 2"}, expect = ACCEPTABLE, desc = "one after the other")
@Outcome(expect = FORBIDDEN, desc = "both inside at once (lost update or stale read)")
@State
public class RangeLockExclusiveMutexTest {
    private final RangeLock lock = new RangeLock();
    private int counter;

    @Actor
    public void actor1(III_Result r) {
        try (RangeLock.Range ignored = lock.lockExclusive(0, 10)) {
            int v = counter;
            Spin.window();
            counter = v + 1;
            r.r1 = v;
        }
    }

    @Actor
    public void actor2(III_Result r) {
        try (RangeLock.Range ignored = lock.lockExclusive(5, 15)) {
            int v = counter;
            Spin.window();
            counter = v + 1;
            r.r2 = v;
        }
    }

    @Arbiter
    public void arbiter(III_Result r) {
        r.r3 = counter;
    }
}
