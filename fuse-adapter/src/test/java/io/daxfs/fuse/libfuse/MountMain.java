package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.MountSession;

import java.nio.file.Path;
import java.time.Duration;

/** Child-process entry point for the SIGTERM test: mounts, prints READY, serves until stopped. */
public final class MountMain {
    public static void main(String[] args) throws Exception {
        MountSession loop = FuseSessionLoop.builder(new MemoryTestFs(), Path.of(args[0]))
                .options(FuseSessionLoopTest.OPTIONS).threads(2).mount();
        if (!loop.awaitReady(Duration.ofSeconds(10))) {
            System.exit(2);
        }
        System.out.println("READY");
        System.out.flush();
        loop.awaitExit();
    }
}
