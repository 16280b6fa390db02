package io.daxfs.core.namespace;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.dir.DirentLayout;

import java.nio.charset.StandardCharsets;

/** What a directory entry's name may be: 1 to 255 bytes of UTF-8, no '/' or NUL, not "." or "..". */
final class Names {
    private Names() {
    }

    /** EINVAL for a name no entry may have, ENAMETOOLONG past 255 bytes. */
    static void check(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "invalid name '" + name + "'");
        }
        checkLength(name);
    }

    /** ENAMETOOLONG past 255 bytes of UTF-8 (lookups of any name check only this). */
    static void checkLength(String name) {
        if (name.length() > DirentLayout.MAX_NAME / 4
                && name.getBytes(StandardCharsets.UTF_8).length > DirentLayout.MAX_NAME) {
            throw new FsException(Errno.ENAMETOOLONG, "name longer than " + DirentLayout.MAX_NAME + " bytes");
        }
    }
}
