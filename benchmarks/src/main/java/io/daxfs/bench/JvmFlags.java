package io.daxfs.bench;

/**
 * JVM options of every forked benchmark JVM: what fs-core and devdax need (the property
 * daxfs.jvm.flags of the root pom), so that the jar also works when run without scripts/jmh.
 * Unlike daxfs.jvm.flags, sun.misc.Unsafe memory access is allowed, not denied: JMH itself
 * (org.openjdk.jmh.util.Utils) calls Unsafe.objectFieldOffset. daxfs code does not.
 */
final class JvmFlags {
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    static final String EXPORTS = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";
    static final String UNSAFE = "--sun-misc-unsafe-memory-access=allow";

    private JvmFlags() {
    }
}
