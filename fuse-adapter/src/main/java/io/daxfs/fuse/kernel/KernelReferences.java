package io.daxfs.fuse.kernel;

/**
 * How many lookups the kernel holds on each inode (its "nlookup"), and whether daxfs pinned the
 * inode for it: every reply that hands the kernel an inode adds one, FORGET takes any number
 * away. While the count is above zero the kernel may still send requests for the node id, so an
 * inode that loses its last name then is pinned with an fs-core open handle (kept on the orphan
 * list, as an unlinked open file is) and released when the kernel forgets it. That is what makes
 * a reader that looked a name up just before a rename replaced it still open the old file, as
 * on a local file system.
 *
 * <p>Compact: open addressing over primitive arrays in 64 independently locked stripes, about 27
 * bytes per inode the kernel caches (a million cached inodes cost 27 MB, not the 100 MB boxed
 * maps would). Thread-safe; each operation holds one stripe's monitor briefly and calls nothing:
 * the stripes are leaves, below every other lock (fs-core asks {@link #holdIfReferenced} while it
 * frees an inode, holding that inode's locks).
 */
final class KernelReferences {
    private static final int STRIPES = 64;
    private static final long PINNED = 1L;
    private static final long NUMBER_HELD = 2L;
    private static final long ONE = 4L; // counts live in the bits above the two flags
    private static final int SHIFT = 2;

    /** {@link #forget} result: release the pin (an fs-core open handle). */
    static final int RELEASE_PIN = 1;
    /** {@link #forget} result: the inode is gone and its number may be reused. */
    static final int RELEASE_NUMBER = 2;

    private final Stripe[] stripes = new Stripe[STRIPES];

    KernelReferences() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    private Stripe stripe(long ino) {
        return stripes[(int) (mix(ino) >>> 58)];
    }

    static long mix(long x) {
        x *= 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    /** The kernel received {@code ino} in a reply: one more lookup. */
    void add(long ino) {
        Stripe s = stripe(ino);
        synchronized (s) {
            s.add(ino, ONE);
        }
    }

    /** Whether the kernel holds at least one lookup of {@code ino}. */
    boolean referenced(long ino) {
        Stripe s = stripe(ino);
        synchronized (s) {
            return s.get(ino) >= ONE;
        }
    }

    /**
     * Marks {@code ino} pinned if the kernel references it and it is not pinned yet; returns
     * whether the caller must now take the pin (an fs-core open handle).
     */
    boolean pinIfReferenced(long ino) {
        Stripe s = stripe(ino);
        synchronized (s) {
            long v = s.get(ino);
            if (v < ONE || (v & PINNED) != 0) {
                return false;
            }
            s.add(ino, PINNED);
            return true;
        }
    }

    /** Clears the pin mark set by {@link #pinIfReferenced} when taking the pin failed. */
    void unpin(long ino) {
        Stripe s = stripe(ino);
        synchronized (s) {
            if ((s.get(ino) & PINNED) != 0) {
                s.add(ino, -PINNED);
            }
        }
    }

    /**
     * Called as fs-core frees inode {@code ino}: if the kernel still references the number,
     * marks it held and returns true (fs-core then keeps the number from new files until the
     * kernel's last FORGET).
     */
    boolean holdIfReferenced(long ino) {
        Stripe s = stripe(ino);
        synchronized (s) {
            long v = s.get(ino);
            if (v < ONE) {
                return false;
            }
            if ((v & NUMBER_HELD) == 0) {
                s.add(ino, NUMBER_HELD);
            }
            return true;
        }
    }

    /**
     * FORGET: the kernel drops {@code n} lookups. If they were its last: {@link #RELEASE_PIN}
     * when the inode was pinned, {@link #RELEASE_NUMBER} when its number was held (or both); 0
     * otherwise.
     */
    int forget(long ino, long n) {
        Stripe s = stripe(ino);
        synchronized (s) {
            long v = s.get(ino);
            if (v == 0) {
                return 0;
            }
            long count = Math.max(0, (v >>> SHIFT) - n);
            if (count > 0) {
                s.add(ino, (count << SHIFT | (v & (PINNED | NUMBER_HELD))) - v);
                return 0;
            }
            s.remove(ino);
            return ((v & PINNED) != 0 ? RELEASE_PIN : 0) | ((v & NUMBER_HELD) != 0 ? RELEASE_NUMBER : 0);
        }
    }

    /** Inodes tracked (tests, diagnostics). */
    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                n += s.size;
            }
        }
        return n;
    }

    /** Linear probing; key 0 marks an empty slot (inode 0 does not exist); deletion by backward shift. */
    private static final class Stripe {
        long[] keys = new long[16];
        long[] values = new long[16];
        int size;

        private int slot(long key) {
            int mask = keys.length - 1;
            int i = (int) mix(key) & mask;
            while (keys[i] != 0 && keys[i] != key) {
                i = (i + 1) & mask;
            }
            return i;
        }

        long get(long key) {
            int i = slot(key);
            return keys[i] == key ? values[i] : 0;
        }

        void add(long key, long delta) {
            int i = slot(key);
            if (keys[i] == key) {
                values[i] += delta;
                return;
            }
            keys[i] = key;
            values[i] = delta;
            if (++size * 10 > keys.length * 7) {
                grow();
            }
        }

        void remove(long key) {
            int mask = keys.length - 1;
            int i = slot(key);
            if (keys[i] != key) {
                return;
            }
            keys[i] = 0;
            values[i] = 0;
            size--;
            // Shift back the entries after it that probed past this slot.
            int j = i;
            while (true) {
                j = (j + 1) & mask;
                if (keys[j] == 0) {
                    return;
                }
                int home = (int) mix(keys[j]) & mask;
                boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (!between) {
                    keys[i] = keys[j];
                    values[i] = values[j];
                    keys[j] = 0;
                    values[j] = 0;
                    i = j;
                }
            }
        }

        private void grow() {
            long[] oldKeys = keys;
            long[] oldValues = values;
            keys = new long[oldKeys.length * 2];
            values = new long[oldKeys.length * 2];
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != 0) {
                    int s = slot(oldKeys[i]);
                    keys[s] = oldKeys[i];
                    values[s] = oldValues[i];
                }
            }
        }
    }
}
