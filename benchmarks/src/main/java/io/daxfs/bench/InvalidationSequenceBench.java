package io.daxfs.bench;

import io.daxfs.core.concurrent.InvalidationSequence;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@link InvalidationSequence}: what a cached read pays ({@code sampleValidate}), what a
 * block-map change pays ({@code beginEnd}), and a reader next to a thread that invalidates
 * without pause ({@code readerVsWriter}: the reader's validate then mostly fails, and both
 * contend for the word's cache line).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class InvalidationSequenceBench {
    final InvalidationSequence seq = new InvalidationSequence();

    @Benchmark
    @Threads(1)
    public boolean sampleValidate() {
        long s = seq.sample();
        return seq.validate(s);
    }

    @Benchmark
    @Threads(1)
    public void beginEnd() {
        seq.begin();
        seq.end();
    }

    @Benchmark
    @Group("readerVsWriter")
    @GroupThreads(1)
    public boolean reader() {
        long s = seq.sample();
        return seq.validate(s);
    }

    @Benchmark
    @Group("readerVsWriter")
    @GroupThreads(1)
    public void writer() {
        seq.begin();
        seq.end();
    }
}
