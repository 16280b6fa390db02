package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The lifecycle of {@link FsCoreDevice}: one device per test, checked and closed after it. */
public final class FsCoreDeviceExtension implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(FsCoreDevice.class);

    @Override
    public void beforeEach(ExtensionContext context) throws IllegalAccessException {
        FsCoreDevice spec = context.getRequiredTestClass().getAnnotation(FsCoreDevice.class);
        FormatOptions options = spec.inodes() > 0
                ? new FormatOptions(spec.inodes(), "", 0, 0) : FormatOptions.defaults();
        TestDevice dev = TestDevice.create(spec.mib() * TestDevice.MIB, options);
        context.getStore(NAMESPACE).put(TestDevice.class, dev);
        Object test = context.getRequiredTestInstance();
        for (Class<?> c = test.getClass(); c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                if (f.getType() == TestDevice.class) {
                    f.setAccessible(true);
                    f.set(test, dev);
                } else if (f.getType() == DaxFileSystem.class) {
                    f.setAccessible(true);
                    f.set(test, dev.fs());
                }
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        TestDevice dev = context.getStore(NAMESPACE).remove(TestDevice.class, TestDevice.class);
        if (dev == null) {
            return;
        }
        try (dev) {
            if (context.getExecutionException().isEmpty()) {
                check(dev, context.getRequiredTestClass().getAnnotation(FsCoreDevice.class).after(),
                        context.getDisplayName());
            }
        }
    }

    private static void check(TestDevice dev, FsCoreDevice.Check check, String test) {
        switch (check) {
            case NONE -> { }
            case FSCK -> FsckSupport.assertClean(dev.region().readView(), "after " + test);
            case SPACE_AND_FSCK -> {
                FsSnapshot.assertSpaceAccounted(dev.fs());
                FsckSupport.assertClean(dev.region().readView(), "after " + test);
            }
            case REMOUNT_AND_FSCK -> {
                FsSnapshot.assertSpaceAccounted(dev.fs());
                var before = FsSnapshot.of(dev.fs());
                var stats = dev.fs().statfs();
                FsSnapshot.assertSpaceAccounted(dev.remount());
                assertEquals(before, FsSnapshot.of(dev.fs()), "the same tree after a remount");
                assertEquals(stats, dev.fs().statfs(), "the same statfs after a remount");
                FsckSupport.assertClean(dev.region().readView(), "after " + test);
            }
        }
    }
}
