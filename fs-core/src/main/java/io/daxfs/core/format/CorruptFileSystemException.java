package io.daxfs.core.format;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

/**
 * Damaged metadata: the one exception every decoder of on-media bytes throws when the bytes
 * are not a sound daxfs structure (a foreign or truncated device, an unknown format version,
 * a checksum that does not match, a field out of range, a loop). Its errno is EUCLEAN
 * ("structure needs cleaning"); it names the inode and the block where the damage was found,
 * when there is one, and its message is one line that says what is wrong.
 *
 * <p>Decoders never throw anything else on bad input: no IndexOutOfBoundsException, no
 * ArithmeticException, no allocation sized by an unchecked field.
 */
public final class CorruptFileSystemException extends FsException {
    /** {@link #inode()} and {@link #block()} when the damage is not in one inode or block. */
    public static final long NONE = -1;

    private final long inode;
    private final long block;

    public CorruptFileSystemException(String message) {
        this(message, NONE, NONE);
    }

    /**
     * @param inode the inode whose metadata is damaged, or {@link #NONE}
     * @param block the device block where the damage was found, or {@link #NONE}
     */
    public CorruptFileSystemException(String message, long inode, long block) {
        super(Errno.EUCLEAN, oneLine(message), false);
        this.inode = inode;
        this.block = block;
    }

    /**
     * {@code text} as one printable line: control characters (a name read from a damaged
     * directory or attribute index may hold a newline) become {@code \xNN}, so a finding is
     * always the one line mount and fsck print.
     */
    public static String oneLine(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 || c == 0x85) {
                if (b == null) {
                    b = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                b.append(String.format(c <= 0xff ? "\\x%02x" : "\\u%04x", (int) c));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? text : b.toString();
    }

    public long inode() {
        return inode;
    }

    public long block() {
        return block;
    }
}
