package io.daxfs.it;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ReflectionSupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The lifecycle of {@link MountedDaxfs}: makes, mounts, injects, checks and always cleans up
 * the {@link DaxfsMount} of a class or of a test (see the annotation for what happens when).
 *
 * <p>The mount lives in the JUnit store of its scope, wrapped so that closing the store cleans
 * it up: JUnit closes a scope's store after its after-callbacks whatever they threw, so no
 * mount, daemon or image outlives its class or test even when a test, a check or a mount
 * fails. The after-callbacks themselves close it first, so that an internal error the daemon
 * logged fails the class or test it belongs to.
 */
final class MountedDaxfsExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
        AfterAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
            MountedDaxfsExtension.class);
    private static final String MOUNT = "mount";
    private static final String TEST_DIRECTORIES = "test directories";

    /** A scope's mount; closing it (the store does, at the end of the scope) never throws. */
    private static final class Scoped implements ExtensionContext.Store.CloseableResource {
        final DaxfsMount mount;
        /** Whether the mount succeeded: only then does fsck at the end make sense. */
        boolean mounted;

        Scoped(DaxfsMount mount) {
            this.mount = mount;
        }

        @Override
        public void close() {
            mount.cleanUp();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).put(TEST_DIRECTORIES, new AtomicInteger());
        MountedDaxfs config = config(context);
        if (config.scope() == MountedDaxfs.Scope.CLASS) {
            DaxfsMount m = open(context, config);
            inject(context.getRequiredTestClass(), null, m);
            context.getTestInstance().ifPresent(instance -> inject(instance.getClass(), instance, m));
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        MountedDaxfs config = config(context);
        DaxfsMount m;
        if (config.scope() == MountedDaxfs.Scope.CLASS) {
            m = scoped(context).mount;
            m.ensureMounted(config.options());
        } else {
            m = open(context, config);
        }
        for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
            inject(instance.getClass(), instance, m);
            for (Field f : fields(instance.getClass(), MountedDaxfsExtension::isTestDirectory)) {
                int n = context.getStore(NAMESPACE).get(TEST_DIRECTORIES, AtomicInteger.class).incrementAndGet();
                set(f, instance, Files.createDirectory(m.path("t" + n + "-" + context.getRequiredTestMethod().getName())));
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        MountedDaxfs config = config(context);
        if (config.scope() == MountedDaxfs.Scope.TEST) {
            close(context, config);
        } else {
            Scoped s = context.getStore(NAMESPACE).get(MOUNT, Scoped.class);
            if (s != null) {
                s.mount.assertNoDaemonErrors();
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        MountedDaxfs config = config(context);
        if (config.scope() == MountedDaxfs.Scope.CLASS) {
            close(context, config);
        }
    }

    private static MountedDaxfs config(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getRequiredTestClass(), MountedDaxfs.class)
                .orElseThrow(() -> new ExtensionConfigurationException(context.getRequiredTestClass()
                        + " uses " + MountedDaxfsExtension.class.getSimpleName() + " without @MountedDaxfs"));
    }

    private static Scoped scoped(ExtensionContext context) {
        Scoped s = context.getStore(NAMESPACE).get(MOUNT, Scoped.class);
        if (s == null) {
            throw new IllegalStateException("no daxfs mount for " + context.getDisplayName());
        }
        return s;
    }

    /** mkfs and mount, the mount stored in the context's scope first so that it is cleaned up. */
    private static DaxfsMount open(ExtensionContext context, MountedDaxfs config) {
        Scoped s = new Scoped(DaxfsMount.empty());
        context.getStore(NAMESPACE).put(MOUNT, s);
        s.mount.mkfs(config.size());
        s.mount.mount(config.options());
        s.mounted = true;
        if (!config.rootMode().isEmpty()) {
            try {
                Files.setPosixFilePermissions(s.mount.mnt, PosixFilePermissions.fromString(config.rootMode()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return s.mount;
    }

    /**
     * The end of a scope: unmount and fsck if asked for (and the mount once succeeded), then
     * close, which cleans up and fails on daemon errors not reported yet; the first failure is
     * thrown, later ones are added to it.
     */
    private static void close(ExtensionContext context, MountedDaxfs config) {
        Scoped s = context.getStore(NAMESPACE).remove(MOUNT, Scoped.class);
        if (s == null) {
            return;
        }
        Throwable failure = null;
        if (config.fsck() && s.mounted) {
            try {
                if (s.mount.isMounted()) {
                    s.mount.umount();
                }
                s.mount.fsckClean();
            } catch (RuntimeException | Error e) {
                failure = e;
            }
        }
        try {
            s.mount.close();
        } catch (RuntimeException | Error e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    /** Sets every non-final DaxfsMount field of {@code type}: the static ones, and with an instance its own. */
    private static void inject(Class<?> type, Object instance, DaxfsMount m) {
        for (Field f : fields(type, field -> field.getType() == DaxfsMount.class)) {
            boolean isStatic = Modifier.isStatic(f.getModifiers());
            if (isStatic || instance != null) {
                set(f, isStatic ? null : instance, m);
            }
        }
    }

    private static boolean isTestDirectory(Field f) {
        if (!AnnotationSupport.isAnnotated(f, TestDirectory.class)) {
            return false;
        }
        if (f.getType() != Path.class || Modifier.isStatic(f.getModifiers())) {
            throw new ExtensionConfigurationException("@TestDirectory " + f + ": must be an instance field of type Path");
        }
        return true;
    }

    private static Iterable<Field> fields(Class<?> type, Predicate<Field> which) {
        return ReflectionSupport.findFields(type, which, HierarchyTraversalMode.TOP_DOWN);
    }

    private static void set(Field f, Object instance, Object value) {
        if (Modifier.isFinal(f.getModifiers())) {
            throw new ExtensionConfigurationException(f + " is final: @MountedDaxfs cannot set it");
        }
        try {
            f.setAccessible(true);
            f.set(instance, value);
        } catch (IllegalAccessException e) {
            throw new ExtensionConfigurationException("cannot set " + f, e);
        }
    }
}
