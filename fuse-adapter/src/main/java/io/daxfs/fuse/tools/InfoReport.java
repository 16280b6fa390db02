package io.daxfs.fuse.tools;

import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inspect.BlockUsage;
import io.daxfs.core.inspect.InodeUsage;
import io.daxfs.core.inspect.Inspection;
import io.daxfs.core.inspect.JournalState;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.PersistenceMode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code daxfs info}: identity, geometry, journal, usage, persistence and mount state of a
 * device, as text for people and as JSON for scripts. Built from one read-only
 * {@link Inspection}.
 */
public final class InfoReport {
    private final Target target;
    private final boolean live;
    private final Superblock sb;
    private final Geometry g;
    private final long deviceBytes;
    private final boolean copiesAgree;
    private final PersistenceMode persistence;
    private final String mapping;
    private final JournalState journal;
    private final InodeUsage inodes;
    private final BlockUsage blocks;
    private final List<Inspection.Region> regions;
    private final List<String> problems;

    private InfoReport(Target target, ReadOnlyDevice opened, Inspection in) {
        OpenedDevice device = opened.device();
        this.target = target;
        this.live = opened.live();
        this.sb = in.superblock();
        this.g = sb.geometry();
        this.deviceBytes = device.size();
        this.copiesAgree = in.superblockCopiesAgree();
        this.persistence = device.persistenceMode();
        this.mapping = device.mappingDescription();
        this.journal = in.journal();
        this.inodes = in.inodes();
        this.blocks = in.blocks();
        this.regions = in.regions();
        this.problems = in.problems();
    }

    public static InfoReport of(Target target, ReadOnlyDevice device, Inspection inspection) {
        return new InfoReport(target, device, inspection);
    }

    /** True when the device looked sound (the exit status is 0). */
    public boolean clean() {
        return problems.isEmpty();
    }

    public List<String> problems() {
        return problems;
    }

    /** What a mount of this device makes durable, and how (devdax's probe of the mapping). */
    static String persistenceText(PersistenceMode mode) {
        return switch (mode) {
            case CACHE_LINE_WRITEBACK -> "MAP_SYNC / device-DAX, cache-line write-back: durable across power loss";
            case MSYNC -> "msync of a shared file mapping: durable once the image's file system has it on disk";
            case VOLATILE -> "volatile: image on tmpfs, survives the daemon's death but not a reboot or power cut";
            case FENCE_ONLY -> "fence only: durable across power loss only on eADR platforms";
        };
    }

    private String journalText() {
        if (!journal.headerValid()) {
            return "header damaged (run daxfs fsck)";
        }
        String state;
        if (!journal.pending()) {
            state = "clean, last transaction " + journal.appliedSeq() + " applied";
        } else if (live) {
            state = "transaction " + journal.pendingSeq() + " committed and being applied by the daemon";
        } else {
            state = "transaction " + journal.pendingSeq() + " committed but not applied (" + journal.pendingRecords()
                    + " records, " + Sizes.bytes(journal.pendingBytes()) + "): the next mount replays it";
        }
        String orphans = journal.orphans() < 0 ? "orphan list damaged"
                : journal.orphans() + (journal.orphans() == 1 ? " orphan" : " orphans");
        return state + "; " + orphans + "; " + Sizes.bytes(g.journalBytes()) + " (" + Sizes.bytes(journal.capacityBytes())
                + " transaction slot)";
    }

    private String mountText() {
        if (!target.mounted()) {
            return live ? "not mounted, but another process holds it for writing (mkfs? a daemon starting?)"
                    : "not mounted";
        }
        return "on " + target.mountPoint() + target.daemonPid().stream().mapToObj(p -> ", daemon pid " + p)
                .findFirst().orElse("");
    }

    /** The report for people. */
    public String text() {
        StringBuilder b = new StringBuilder();
        b.append("daxfs on ").append(target.device()).append('\n');
        line(b, "format", "version " + Superblock.VERSION + ", " + Geometry.BLOCK_SIZE + "-byte blocks");
        line(b, "uuid", sb.uuid().toString());
        line(b, "label", sb.label().isEmpty() ? "(none)" : sb.label());
        line(b, "created", Instant.ofEpochSecond(sb.createdEpochSeconds()).toString());
        line(b, "size", Sizes.bytes(deviceBytes) + " (" + Sizes.count(g.totalBlocks()) + " blocks)");
        line(b, "superblock", copiesAgree ? "primary and backup identical" : "primary and backup differ (run daxfs fsck)");
        line(b, "persistence", persistenceText(persistence));
        line(b, "mounted", mountText());
        line(b, "journal", journalText());
        line(b, "inodes", Sizes.count(inodes.used()) + " used of " + Sizes.count(inodes.total()) + " ("
                + Sizes.percent(inodes.used(), inodes.total()) + "): " + Sizes.counted(inodes.regularFiles(), "file", "files")
                + ", " + Sizes.counted(inodes.directories(), "directory", "directories") + ", "
                + Sizes.counted(inodes.symlinks(), "symlink", "symlinks") + ", " + Sizes.count(inodes.other()) + " other");
        line(b, "data blocks", Sizes.count(blocks.dataUsed()) + " used of " + Sizes.count(blocks.dataTotal()) + " ("
                + Sizes.percent(blocks.dataUsed(), blocks.dataTotal()) + "), " + Sizes.bytes(blocks.dataFree()
                * Geometry.BLOCK_SIZE) + " free");
        if (live) {
            line(b, "note", "read while mounted, without the lock: a snapshot of a changing file system");
        }
        for (String p : problems) {
            line(b, "problem", p);
        }
        b.append('\n');
        b.append(String.format(Locale.ROOT, "  %-14s %12s %12s %10s%n", "region", "first block", "blocks", "size"));
        for (Inspection.Region r : regions) {
            b.append(String.format(Locale.ROOT, "  %-14s %12s %12s %10s%n", r.name(), Sizes.count(r.start()),
                    Sizes.count(r.blocks()), Sizes.bytes(r.blocks() * Geometry.BLOCK_SIZE)));
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "  %-12s %s%n", key, value));
    }

    /** The report for scripts: every figure as a number, the texts as above. */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", target.device().toString());
        m.put("format_version", Superblock.VERSION);
        m.put("block_size", Geometry.BLOCK_SIZE);
        m.put("uuid", sb.uuid().toString());
        m.put("label", sb.label());
        m.put("created", Instant.ofEpochSecond(sb.createdEpochSeconds()).toString());
        m.put("size_bytes", deviceBytes);
        m.put("total_blocks", g.totalBlocks());
        m.put("superblock_copies_agree", copiesAgree);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("mode", persistence.name());
        p.put("description", persistenceText(persistence));
        p.put("mapping", mapping);
        m.put("persistence", p);
        Map<String, Object> mount = new LinkedHashMap<>();
        mount.put("mounted", target.mounted());
        mount.put("mount_point", target.mounted() ? target.mountPoint().toString() : null);
        mount.put("daemon_pid", target.daemonPid().isPresent() ? target.daemonPid().getAsLong() : null);
        mount.put("held_for_writing", live);
        m.put("mount", mount);
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("header_valid", journal.headerValid());
        j.put("applied_seq", journal.appliedSeq());
        j.put("pending", journal.pending());
        j.put("pending_seq", journal.pending() ? journal.pendingSeq() : null);
        j.put("pending_records", journal.pendingRecords());
        j.put("pending_bytes", journal.pendingBytes());
        j.put("orphans", journal.orphans());
        j.put("bytes", g.journalBytes());
        j.put("slot_bytes", journal.capacityBytes());
        m.put("journal", j);
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("total", inodes.total());
        i.put("used", inodes.used());
        i.put("free", inodes.free());
        i.put("regular_files", inodes.regularFiles());
        i.put("directories", inodes.directories());
        i.put("symlinks", inodes.symlinks());
        i.put("other", inodes.other());
        m.put("inodes", i);
        Map<String, Object> bl = new LinkedHashMap<>();
        bl.put("total", blocks.total());
        bl.put("metadata", blocks.metadata());
        bl.put("data_total", blocks.dataTotal());
        bl.put("data_used", blocks.dataUsed());
        bl.put("data_free", blocks.dataFree());
        m.put("blocks", bl);
        List<Object> rs = new ArrayList<>();
        for (Inspection.Region r : regions) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", r.name());
            x.put("start", r.start());
            x.put("blocks", r.blocks());
            rs.add(x);
        }
        m.put("regions", rs);
        m.put("problems", problems);
        return m;
    }
}
