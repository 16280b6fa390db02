package io.daxfs.core;

import io.daxfs.core.CrashHarness.Op;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * The two crash checks of the journal's commit protocol, for every operation of a subclass's
 * static {@code List<Op> ops()}: stopped after each step of its commit, and with its slot torn
 * ({@link CrashHarness}). A subclass supplies the harness (device size, visible state, work
 * after recovery) and the operations.
 */
public abstract class CommitCrashTests<S> {
    protected abstract CrashHarness<S> harness();

    @ParameterizedTest(name = "{0} stopped after ''{1}''")
    @ArgumentsSource(CrashHarness.OpsAndSteps.class)
    void aCommittedOperationIsThereAfterTheCrash(Op op, String step) {
        harness().crashesAt(op, step);
    }

    @ParameterizedTest(name = "{0} with a torn slot ({1} byte)")
    @ArgumentsSource(CrashHarness.OpsAndTears.class)
    void aTornCommitLeavesNoTrace(Op op, String where) {
        harness().tearsSlot(op, where);
    }
}
