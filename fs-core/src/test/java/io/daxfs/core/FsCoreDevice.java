package io.daxfs.core;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Gives each test of the class a freshly formatted and mounted file system on an image file
 * ({@link TestDevice}): the extension sets the test's non-static fields of type
 * {@link TestDevice} and {@link DaxFileSystem} before the class's own {@code @BeforeEach}
 * methods run, checks what {@link #after()} says once the test passed, and always closes the
 * device and deletes its image.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(FsCoreDeviceExtension.class)
public @interface FsCoreDevice {
    /** Device size in MiB. */
    long mib() default 32;

    /** Inode count for mkfs; 0 for mkfs's default. */
    long inodes() default 0;

    /** What every test must leave behind. */
    Check after() default Check.FSCK;

    enum Check {
        /** Nothing is checked. */
        NONE,
        /** fsck finds nothing wrong. */
        FSCK,
        /** Every block is free, in a file or busy (statfs agrees with the tree), and fsck is clean. */
        SPACE_AND_FSCK,
        /** As {@link #SPACE_AND_FSCK}, and a remount shows the same tree and statfs. */
        REMOUNT_AND_FSCK
    }
}
