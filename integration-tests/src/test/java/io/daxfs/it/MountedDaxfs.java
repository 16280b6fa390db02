package io.daxfs.it;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The tests of the annotated class run on a daxfs of their own: a fresh sparse image of
 * {@link #size()}, made by {@code daxfs mkfs} and mounted by {@code daxfs mount} with the front
 * end this run selects ({@code -Ddaxfs.it.frontend}) and the {@link #options()}, exactly as
 * {@link DaxfsMount} does it. {@link MountedDaxfsExtension} does the work:
 * <ul>
 *   <li>every non-final field of type {@link DaxfsMount} (static or not) gets the mount;</li>
 *   <li>every field of type {@code Path} annotated {@link TestDirectory} gets, before each
 *       test, a new directory {@code t<N>-<test method>} at the root of the mount;</li>
 *   <li>with {@link Scope#CLASS} (the default) one mount serves the whole class: it is made
 *       before the class's {@code @BeforeAll} methods, mounted again before a test if an earlier
 *       test left it unmounted or its daemon dead, and closed after the class's
 *       {@code @AfterAll} methods; with {@link Scope#TEST} each test gets its own image and
 *       mount, made before its {@code @BeforeEach} methods and closed after its
 *       {@code @AfterEach} methods;</li>
 *   <li>after each test, the test fails if the daemon logged an internal error;</li>
 *   <li>with {@link #fsck()}, at the end of the scope (the class, or each test) a mounted
 *       file system is unmounted and {@code daxfs fsck} must find the image clean;</li>
 *   <li>whatever happened (a failed or timed-out test, a failed mount, fsck or assumption),
 *       the end of the scope closes the {@link DaxfsMount}: every mount under its directory
 *       is lazily unmounted, every daemon it started is killed and the image deleted.</li>
 * </ul>
 */
@Documented
@Inherited
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(MountedDaxfsExtension.class)
@interface MountedDaxfs {
    /** The image size given to {@code daxfs mkfs --size}. */
    String size() default DaxfsMount.DEFAULT_SIZE;

    /** Mount options, each passed as one {@code -o} after the front end's. */
    String[] options() default {};

    /**
     * Permission bits for the root directory, set once after the first mount, as
     * {@code PosixFilePermissions} writes them (e.g. {@code rwxrwxrwx} so that other users can
     * create files through an {@code allow_other} mount); empty leaves mkfs's 755.
     */
    String rootMode() default "";

    /** One mount for the class or one for each test. */
    Scope scope() default Scope.CLASS;

    /**
     * Whether the end of the scope (the class, or each test) unmounts the file system, if it
     * is mounted, and fails unless {@code daxfs fsck} finds the image clean.
     */
    boolean fsck() default false;

    /** How long one mount lives. */
    enum Scope {
        /** One image and mount shared by the tests of the class, which run one after another. */
        CLASS,
        /** A fresh image and mount for each test. */
        TEST
    }
}
