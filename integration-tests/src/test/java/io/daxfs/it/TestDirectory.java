package io.daxfs.it;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a {@code Path} field of a {@link MountedDaxfs} class: before each test, the field gets a
 * new, empty directory {@code t<N>-<test method>} at the root of the mount (N counts the
 * tests of the class), so that tests sharing one mount do not see each other's files.
 */
@Documented
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@interface TestDirectory {
}
