package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.PmemRegion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * statfs while freed blocks have their memory released: a 4 MiB file is unlinked and its
 * extent, once off the busy list, is punched out of the image (PmemRegion.release) before the
 * allocator gets it back. The release is held open here, and statfs must count the blocks
 * free meanwhile: they belong to no file. (It did not: for the length of each punch of 1 MiB
 * or more, of a batch release or of a trim, those blocks were in neither the allocator nor
 * the busy list, and a test waiting for space to come back saw it shrink again.)
 */
class FreeSpaceWhileReleasingTest {
    @TempDir
    Path dir;

    @Test
    void blocksBeingReleasedStillCountAsFree() throws Exception {
        CountDownLatch inRelease = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        try (OpenedDevice device = TestDevice.open(dir.resolve("img"), 64 * MIB)) {
            DaxFileSystem.format(device.region(), FormatOptions.defaults());
            PmemRegion real = device.region();
            PmemRegion holding = (PmemRegion) Proxy.newProxyInstance(PmemRegion.class.getClassLoader(),
                    new Class<?>[] {PmemRegion.class}, (proxy, method, args) -> {
                        if (method.getName().equals("release") && (long) args[1] >= MIB) {
                            inRelease.countDown();
                            assertTrue(letGo.await(30, TimeUnit.SECONDS));
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            DaxFileSystem fs = DaxFileSystem.mount(holding);
            long ino = fs.create(ROOT, "big", 0644, 0, 0);
            TestDevice.write(fs, ino, 0, new byte[(int) (4 * MIB)]);
            long withFile = fs.statfs().freeBlocks();

            Thread unlinker = new Thread(() -> fs.unlink(ROOT, "big"));
            unlinker.start();
            assertTrue(inRelease.await(30, TimeUnit.SECONDS), "the freed extent's memory is being released");
            long during = fs.statfs().freeBlocks();
            letGo.countDown();
            unlinker.join();
            long after = fs.statfs().freeBlocks();

            assertTrue(after >= withFile + 1024, "the 4 MiB came back: " + withFile + " -> " + after);
            assertEquals(after, during, "free blocks while the released blocks are out of the allocator");
            fs.close();
        }
    }
}
