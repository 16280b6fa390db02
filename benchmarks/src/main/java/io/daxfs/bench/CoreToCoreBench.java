package io.daxfs.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The machine, not daxfs: how long a cache line takes to go from one core to another and back
 * ({@link CoreToCore}: a volatile ping-pong between the benchmark thread and a responder thread). Every benchmark
 * in which two threads share data - NamespaceBench's two threads committing through one
 * journal - moves dozens of lines per operation, so its two-thread figures follow this one.
 *
 * <p>On the 2-vCPU VM of docs/jmh-results.md it is bimodal and changes under a running
 * benchmark: about 70 ns when the host runs the two vCPUs on cores that share an L3 cache,
 * about 340 ns when it runs them apart. Run it beside a two-thread benchmark (before and after)
 * to know which machine the figures describe.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CoreToCoreBench {
    private CoreToCore pingPong;

    @Setup(Level.Trial)
    public void start() {
        pingPong = new CoreToCore();
    }

    @TearDown(Level.Trial)
    public void stop() {
        pingPong.close();
    }

    /** One round trip: a store seen by the other core, and its answer seen back here. */
    @Benchmark
    public long roundTrip() {
        return pingPong.roundTrip();
    }
}
