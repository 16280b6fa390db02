package io.daxfs.devdax;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import io.daxfs.devdax.RecordingRegion.Event;
import io.daxfs.devdax.RecordingRegion.Fence;
import io.daxfs.devdax.RecordingRegion.Fill;
import io.daxfs.devdax.RecordingRegion.Release;
import io.daxfs.devdax.RecordingRegion.Store;

/**
 * Rebuilds images of the states a power cut could leave, from the contents of a region before
 * recording started and the {@link RecordingRegion} log of what was done to it.
 *
 * <h2>The model</h2>
 * The x86 persistent-memory model, simplified, with 8-byte failure atomicity:
 * <ul>
 *   <li>The fences cut the log into <em>epochs</em>: epoch 0 is everything before the first
 *       {@link Fence}, epoch <i>k</i> everything between fence <i>k-1</i> and fence <i>k</i>,
 *       and the last epoch everything after the last fence.</li>
 *   <li>A crash during epoch <i>k</i> keeps everything of the epochs before it (the
 *       <em>durable prefix</em>) plus any part of epoch <i>k</i>'s writes.</li>
 *   <li>The part of an epoch that survives is chosen per aligned 8-byte word, independently
 *       for each word: a word ends up holding one of the values it held during the epoch, i.e.
 *       the result of the first <i>j</i> of the epoch's writes to it, for a random <i>j</i>
 *       from 0 (none) to all of them. So a word is never torn, a word never shows a state it
 *       never had, and different words - even in one cache line - are independent.
 *       {@link Release} counts as a write of zeros, a large {@link Fill} as a write of its
 *       value.</li>
 *   <li>{@link RecordingRegion.Flush} is ignored: the model assumes every write of an earlier
 *       epoch is durable once its epoch's closing fence has run. A store that was never
 *       flushed is therefore treated as durable too, so this model finds ordering bugs (a
 *       commit record reaching media before the data it commits, when no fence separates
 *       them) but not forgotten flushes.</li>
 * </ul>
 *
 * <h2>What is produced</h2>
 * In order, for each epoch <i>e</i> (there are one more epochs than fences):
 * <ol type="a">
 *   <li>{@link Kind#DURABLE_PREFIX}: every event before the epoch applied. For epoch 0 that is
 *       the base image itself; for epoch <i>i+1</i> it is "exactly all events before fence
 *       <i>i</i>";</li>
 *   <li>{@link Kind#PARTIAL_EPOCH}, {@code variantsPerEpoch} times: the durable prefix plus a
 *       random per-word part of the epoch's writes, as above (skipped for epochs that write
 *       nothing);</li>
 * </ol>
 * and finally (c) {@link Kind#FINAL}: the whole log applied.
 *
 * <p>Images are produced lazily, one fresh array each, so a consumer that drops each image
 * after checking it holds about two at a time. Cost per image: one copy of the running
 * prefix plus the epoch's writes. Randomness comes from a {@link Random} seeded with
 * {@code seed} and the epoch number, so a failing image can be rebuilt from its
 * {@link CrashImage#describe() description} and the seed alone.
 */
public final class CrashImages {

    public enum Kind {
        /** All events of earlier epochs applied, none of this one. */
        DURABLE_PREFIX,
        /** The durable prefix plus a random per-word part of this epoch's writes. */
        PARTIAL_EPOCH,
        /** The whole log applied (no crash). */
        FINAL
    }

    /**
     * One crash state.
     *
     * @param epoch         the epoch the crash happened in (epoch {@code e} follows fence {@code e-1})
     * @param variant       0-based variant number for {@link Kind#PARTIAL_EPOCH}, else -1
     * @param eventsApplied how many leading log events are fully applied
     * @param image         a fresh array, the caller's to keep or modify
     */
    public record CrashImage(Kind kind, int epoch, int variant, int eventsApplied, byte[] image) {
        /** For test failure messages, e.g. "partial epoch 3 variant 1 (after 57 events)". */
        public String describe() {
            return switch (kind) {
                case DURABLE_PREFIX -> "durable prefix before epoch " + epoch + " (first " + eventsApplied
                        + " events applied)";
                case PARTIAL_EPOCH -> "partial epoch " + epoch + " variant " + variant + " (first "
                        + eventsApplied + " events applied, then part of the epoch's writes)";
                case FINAL -> "final image (all " + eventsApplied + " events applied)";
            };
        }

        @Override
        public String toString() {
            return "CrashImage[" + describe() + "]";
        }
    }

    private CrashImages() {
    }

    /**
     * All crash images of {@code log} applied to {@code base}, lazily, in the order described
     * in the class comment. {@code base} is not modified.
     *
     * @throws IllegalArgumentException if an event lies outside the image
     */
    public static Stream<CrashImage> stream(byte[] base, List<? extends Event> log, int variantsPerEpoch, long seed) {
        Generator generator = new Generator(base, log, variantsPerEpoch, seed);
        return StreamSupport.stream(Spliterators.spliterator(generator, generator.total,
                Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.SIZED), false);
    }

    /** Just the images of {@link #stream}. */
    public static Stream<byte[]> images(byte[] base, List<? extends Event> log, int variantsPerEpoch, long seed) {
        return stream(base, log, variantsPerEpoch, seed).map(CrashImage::image);
    }

    /** The same sequence as {@link #stream}, as an iterator. */
    public static Iterator<CrashImage> iterator(byte[] base, List<? extends Event> log, int variantsPerEpoch,
                                                long seed) {
        return new Generator(base, log, variantsPerEpoch, seed);
    }

    /** How many images {@link #stream} yields for this log. */
    public static long count(List<? extends Event> log, int variantsPerEpoch) {
        long epochs = 1;
        long writing = 0;
        boolean epochWrites = false;
        for (Event e : log) {
            if (e instanceof Fence) {
                epochs++;
                writing += epochWrites ? 1 : 0;
                epochWrites = false;
            } else if (isWrite(e)) {
                epochWrites = true;
            }
        }
        writing += epochWrites ? 1 : 0;
        return epochs + writing * variantsPerEpoch + 1;
    }

    /** {@code base} with the whole log applied: the image with no crash. */
    public static byte[] replay(byte[] base, List<? extends Event> log) {
        validate(base, log);
        byte[] image = base.clone();
        for (Event e : log) {
            apply(image, e);
        }
        return image;
    }

    private static boolean isWrite(Event e) {
        return e instanceof Store || e instanceof Fill || e instanceof Release;
    }

    private static void apply(byte[] image, Event e) {
        switch (e) {
            case Store s -> System.arraycopy(s.bytes(), 0, image, (int) s.offset(), s.bytes().length);
            case Fill f -> Arrays.fill(image, (int) f.offset(), (int) (f.offset() + f.length()), f.value());
            case Release r -> Arrays.fill(image, (int) r.offset(), (int) (r.offset() + r.length()), (byte) 0);
            default -> {
                // Flush and Fence change no bytes.
            }
        }
    }

    /** The bytes an event changes, as {offset, length}; null for flushes and fences. */
    static long[] changedRange(Event e) {
        return switch (e) {
            case Store s -> new long[] {s.offset(), s.bytes().length};
            case Fill f -> new long[] {f.offset(), f.length()};
            case Release r -> new long[] {r.offset(), r.length()};
            default -> null;
        };
    }

    private static void validate(byte[] base, List<? extends Event> log) {
        for (int i = 0; i < log.size(); i++) {
            Event e = log.get(i);
            long[] range = changedRange(e);
            if (range == null) {
                continue;
            }
            long offset = range[0];
            long length = range[1];
            if (offset < 0 || length < 0 || offset + length > base.length) {
                throw new IllegalArgumentException("event " + i + " (" + e + ") lies outside the "
                        + base.length + "-byte image");
            }
        }
    }

    /** The lazy sequence. Invariant: {@code prefix} = base + all events before epoch {@code epoch}. */
    private static final class Generator implements Iterator<CrashImage> {
        private final List<? extends Event> log;
        private final int variantsPerEpoch;
        private final long seed;
        /** Log index of each fence; epoch e spans [start(e), end(e)). */
        private final int[] fences;
        private final long total;

        private byte[] prefix;
        private int epoch;
        /** -1: the durable prefix of {@code epoch} is next; 0..n-1: that variant is next. */
        private int nextVariant = -1;
        private boolean finalDone;
        private EpochWords words;
        private Random random;
        /** Whether the current epoch writes anything; null until asked. */
        private Boolean epochWrites;

        Generator(byte[] base, List<? extends Event> log, int variantsPerEpoch, long seed) {
            if (variantsPerEpoch < 0) {
                throw new IllegalArgumentException("variantsPerEpoch must not be negative");
            }
            validate(base, log);
            this.log = List.copyOf(log);
            this.variantsPerEpoch = variantsPerEpoch;
            this.seed = seed;
            this.fences = fenceIndexes(this.log);
            this.total = count(this.log, variantsPerEpoch);
            this.prefix = base.clone();
        }

        private static int[] fenceIndexes(List<? extends Event> log) {
            List<Integer> f = new ArrayList<>();
            for (int i = 0; i < log.size(); i++) {
                if (log.get(i) instanceof Fence) {
                    f.add(i);
                }
            }
            return f.stream().mapToInt(Integer::intValue).toArray();
        }

        private int epochs() {
            return fences.length + 1;
        }

        private int start(int e) {
            return e == 0 ? 0 : fences[e - 1] + 1;
        }

        private int end(int e) {
            return e < fences.length ? fences[e] : log.size();
        }

        @Override
        public boolean hasNext() {
            return !finalDone;
        }

        @Override
        public CrashImage next() {
            if (finalDone) {
                throw new NoSuchElementException();
            }
            while (epoch < epochs()) {
                if (nextVariant == -1) {
                    nextVariant = 0;
                    return new CrashImage(Kind.DURABLE_PREFIX, epoch, -1, start(epoch), prefix.clone());
                }
                if (nextVariant < variantsPerEpoch && epochWrites()) {
                    int v = nextVariant++;
                    return new CrashImage(Kind.PARTIAL_EPOCH, epoch, v, start(epoch), variant());
                }
                for (int i = start(epoch); i < end(epoch); i++) {
                    apply(prefix, log.get(i));
                }
                epoch++;
                nextVariant = -1;
                words = null;
                random = null;
                epochWrites = null;
            }
            finalDone = true;
            byte[] last = prefix;
            prefix = null;
            return new CrashImage(Kind.FINAL, epochs() - 1, -1, log.size(), last);
        }

        private boolean epochWrites() {
            if (epochWrites == null) {
                epochWrites = false;
                for (int i = start(epoch); i < end(epoch) && !epochWrites; i++) {
                    epochWrites = isWrite(log.get(i));
                }
            }
            return epochWrites;
        }

        private byte[] variant() {
            if (words == null) {
                words = new EpochWords(log, start(epoch), end(epoch));
                random = new Random(seed ^ (0x9E3779B97F4A7C15L * (epoch + 1)));
            }
            return words.applyRandomPart(prefix.clone(), random);
        }
    }

    /**
     * One epoch's writes cut into per-word fragments, in log order. A fragment is the part of
     * one write that falls into one aligned 8-byte word.
     */
    private static final class EpochWords {
        private final List<? extends Event> log;
        private int fragments;
        private int[] fragEvent = new int[16];
        private long[] fragStart = new long[16];
        private byte[] fragLength = new byte[16];
        private int[] fragWord = new int[16];
        /** Per distinct word: how many fragments (writes) touch it in this epoch. */
        private int[] writesPerWord = new int[16];
        private int distinctWords;

        EpochWords(List<? extends Event> log, int from, int to) {
            this.log = log;
            Map<Long, Integer> wordIds = new HashMap<>();
            for (int i = from; i < to; i++) {
                Event e = log.get(i);
                long[] range = changedRange(e);
                if (range == null) {
                    continue;
                }
                long offset = range[0];
                long length = range[1];
                long end = offset + length;
                for (long word = offset >>> 3; word << 3 < end; word++) {
                    long fs = Math.max(offset, word << 3);
                    long fe = Math.min(end, (word << 3) + 8);
                    Integer id = wordIds.get(word);
                    if (id == null) {
                        id = distinctWords++;
                        wordIds.put(word, id);
                        if (id == writesPerWord.length) {
                            writesPerWord = Arrays.copyOf(writesPerWord, id * 2);
                        }
                    }
                    writesPerWord[id]++;
                    add(i, fs, (int) (fe - fs), id);
                }
            }
        }

        private void add(int event, long start, int length, int word) {
            if (fragments == fragEvent.length) {
                int n = fragments * 2;
                fragEvent = Arrays.copyOf(fragEvent, n);
                fragStart = Arrays.copyOf(fragStart, n);
                fragLength = Arrays.copyOf(fragLength, n);
                fragWord = Arrays.copyOf(fragWord, n);
            }
            fragEvent[fragments] = event;
            fragStart[fragments] = start;
            fragLength[fragments] = (byte) length;
            fragWord[fragments] = word;
            fragments++;
        }

        /** Applies, for each word, its first j writes of the epoch, j uniform in [0, writes]. */
        byte[] applyRandomPart(byte[] image, Random random) {
            int[] keep = new int[distinctWords];
            for (int w = 0; w < distinctWords; w++) {
                keep[w] = random.nextInt(writesPerWord[w] + 1);
            }
            for (int f = 0; f < fragments; f++) {
                int w = fragWord[f];
                if (keep[w] == 0) {
                    continue;
                }
                keep[w]--;
                int start = (int) fragStart[f];
                int length = fragLength[f];
                switch (log.get(fragEvent[f])) {
                    case Store s -> System.arraycopy(s.bytes(), (int) (start - s.offset()), image, start, length);
                    case Fill fill -> Arrays.fill(image, start, start + length, fill.value());
                    case Release r -> Arrays.fill(image, start, start + length, (byte) 0);
                    default -> throw new AssertionError();
                }
            }
            return image;
        }
    }
}
