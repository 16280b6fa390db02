package io.daxfs.fuse.mount;

/** The two thread chores both front ends share. */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    /** A daemon thread (JVM exit is never blocked by a mount: the shutdown hook unmounts). */
    public static Thread daemon(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        return t;
    }

    /** Joins {@code t} even if interrupted meanwhile; the interrupt is kept for the caller. */
    public static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
