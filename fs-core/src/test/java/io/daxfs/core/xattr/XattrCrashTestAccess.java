package io.daxfs.core.xattr;

import io.daxfs.core.DaxFileSystem;

/** XattrCrashTest's setups for tests in other packages (the strict crash explorer). */
public final class XattrCrashTestAccess {
    private XattrCrashTestAccess() {
    }

    /** /grow with a full one-block area (the next set grows it), /compact full of superseded records. */
    public static void fullAreas(DaxFileSystem fs) {
        XattrCrashTest.fullAreas(fs);
    }
}
