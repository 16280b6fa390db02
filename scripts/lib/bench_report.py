#!/usr/bin/env python3
"""Turns the raw results of scripts/bench into a Markdown report and a PNG chart.

Usage: bench_report.py OUT_DIR DOC.md
OUT_DIR holds raw/<target>/<test>.r<round>.json (fio JSON), mount/<target>.ms,
rss/<target>.txt, meta.txt, commands.txt and skipped.txt, as scripts/bench writes them.
The chart is written next to DOC.md with the same name and .png. Standard library only,
except matplotlib for the chart (skipped with a note if it is missing).
"""
import glob
import json
import os
import re
import statistics
import sys

TARGETS = ["tmpfs", "bindfs", "daxfs", "daxfs-uring", "daxfs-libfuse"]

# id, label, fio direction, metric, unit, higher is better
TESTS = [
    ("seqwrite", "Sequential write, 1 MiB blocks, end_fsync", "write", "bw", "MiB/s", True),
    ("seqread", "Sequential read, 1 MiB blocks", "read", "bw", "MiB/s", True),
    ("mmapread", "mmap sequential read, from another process", "read", "bw", "MiB/s", True),
    ("randread-1j", "Random read 4 KiB, 1 job", "read", "iops", "IOPS", True),
    ("randread-4j", "Random read 4 KiB, 4 jobs", "read", "iops", "IOPS", True),
    ("randwrite-1j", "Random write 4 KiB, 1 job", "write", "iops", "IOPS", True),
    ("randwrite-4j", "Random write 4 KiB, 4 jobs", "write", "iops", "IOPS", True),
    ("disjoint-1j", "One file, 1 job overwriting 64 KiB blocks of its half", "write", "bw", "MiB/s", True),
    ("disjoint-2j", "One file, 2 jobs overwriting disjoint halves", "write", "bw", "MiB/s", True),
    ("create", "Create 1 KiB files (create, write, close)", "smallfiles", "create", "files/s", True),
    ("stat", "stat files", "smallfiles", "stat", "files/s", True),
    ("unlink", "Unlink files", "smallfiles", "unlink", "files/s", True),
    ("mount", "Mount time (command start to usable mount)", None, None, "ms", False),
]


def read_tsv(path):
    d = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if "\t" in line:
                    k, v = line.split("\t", 1)
                    d[k] = v
    return d


def fio_value(path, direction, metric):
    with open(path) as f:
        text = f.read()
    # fio may print notes before the JSON document.
    text = text[text.index("{"):]
    job = json.loads(text)["jobs"][0]
    part = job[direction]
    if metric == "bw":
        return part["bw_bytes"] / 2**20
    return part["iops"]


def collect(out):
    """results[target][test] = (median, n) ; missing entries are absent."""
    results = {}
    for t in TARGETS:
        res = {}
        for tid, _label, direction, metric, _unit, _hib in TESTS:
            if tid == "mount":
                p = os.path.join(out, "mount", t + ".ms")
                if os.path.exists(p):
                    vals = [float(x) for x in open(p).read().split()]
                    if vals:
                        res[tid] = (statistics.median(vals), len(vals))
                continue
            vals = []
            stem = "smallfiles" if direction == "smallfiles" else tid
            for p in sorted(glob.glob(os.path.join(out, "raw", t, stem + ".r*.json"))):
                try:
                    if direction == "smallfiles":
                        with open(p) as f:
                            vals.append(float(json.load(f)[metric]))
                    else:
                        vals.append(fio_value(p, direction, metric))
                except (ValueError, KeyError, IndexError) as e:
                    print(f"bench_report: cannot read {p}: {e}", file=sys.stderr)
            if vals:
                res[tid] = (statistics.median(vals), len(vals))
        if res:
            results[t] = res
    return results


def fmt(v, unit):
    if v is None:
        return "—"
    if unit in ("MiB/s", "ms"):
        return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
    return f"{v:,.0f}"


def speed_ratio(results, a, b, tid, higher_better):
    """How many times faster a is than b on test tid (>1: a is faster)."""
    try:
        va = results[a][tid][0]
        vb = results[b][tid][0]
    except KeyError:
        return None
    if va <= 0 or vb <= 0:
        return None
    return va / vb if higher_better else vb / va


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def main():
    out, doc = sys.argv[1], sys.argv[2]
    meta = read_tsv(os.path.join(out, "meta.txt"))
    commands = read_tsv(os.path.join(out, "commands.txt"))
    skipped = read_tsv(os.path.join(out, "skipped.txt"))
    results = collect(out)
    present = [t for t in TARGETS if t in results]
    pairs = [p for p in [("daxfs", "tmpfs"), ("daxfs", "bindfs"), ("bindfs", "tmpfs"), ("daxfs", "daxfs-libfuse"),
                         ("daxfs-uring", "bindfs"), ("daxfs-uring", "daxfs")]
             if p[0] in present and p[1] in present]
    png = os.path.splitext(doc)[0] + ".png"
    quick = meta.get("mode") == "quick"

    L = []
    L.append("# daxfs benchmarks")
    L.append("")
    L.append(f"Generated by `scripts/bench{' --quick' if quick else ''}` on {meta.get('date', '?')}"
             f" ({meta.get('mode', '?')} mode, {meta.get('duration', '?')}). "
             "Regenerate with `scripts/bench` (as root; about 20 minutes) or "
             "`scripts/bench --quick` (under 3 minutes, smaller sizes, writes bench-out/).")
    L.append("")
    L.append("Every file system lives in RAM: daxfs on an image file in /dev/shm (tmpfs), "
             "a plain tmpfs, and bindfs (FUSE, libfuse 2) over a directory of /dev/shm. So this "
             "compares file system overheads: tmpfs is the kernel's own in-memory file system "
             "(the ceiling), bindfs is a minimal pass-through FUSE file system (the cost of "
             "FUSE itself). daxfs is measured with its default front end (its own FUSE protocol "
             "implementation on /dev/fuse), as daxfs-uring with the same protocol through FUSE "
             "over io_uring (`-o frontend=uring`; docs/uring-frontend.md) and, as daxfs-libfuse, "
             "with the libfuse 2 front end (`-o frontend=libfuse`; docs/kernel-frontend.md).")
    L.append("")
    if meta.get("note"):
        L.append("> **Note**: " + meta["note"])
        L.append("")
    if quick:
        L.append("> **Quick mode**: smaller files and shorter runs, one round; figures are noisier "
                 "than a full run's.")
        L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("| --- | --- |")
    for key, label in [("cpu", "CPU"), ("cores", "Cores"), ("memory", "Memory"),
                       ("kernel", "Kernel"), ("os", "OS"), ("loadavg", "Load average"), ("jdk", "JDK"), ("fio", "fio"),
                       ("bindfs", "bindfs"), ("bindfs_options", "bindfs options"),
                       ("enable_uring", "fuse.enable_uring"),
                       ("date", "Date")]:
        if key in meta:
            val = meta[key]
            if key == "bindfs_options":
                val = f"`{val}`"
            L.append(f"| {label} | {val} |")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append(f"Median of {meta.get('rounds', '?')} round(s); file size {meta.get('file_size', '?')}, "
             f"random I/O runs of {meta.get('runtime', '?')} each, {meta.get('nfiles', '?')} files of "
             f"1 KiB in one directory for the small-file tests (after one unmeasured round of the same), mount time median of {meta.get('mount_rounds', '?')} mounts of a "
             f"{meta.get('mount_image', '?')} image.")
    L.append("")
    L.append("Ratios are speed ratios: above 1 means the first file system is faster (for mount "
             "time, the inverse of the time ratio). Why the figures are what they are - the cost "
             "of one FUSE request on this machine, the requests each operation takes, what "
             "changed which figure - is in [performance.md](performance.md).")
    L.append("")
    head = ["Test", "Unit"] + present + [f"{a}/{b}" for a, b in pairs]
    L.append("| " + " | ".join(head) + " |")
    L.append("| " + " | ".join(["---", "---"] + ["---:"] * (len(head) - 2)) + " |")
    chart_rows = []
    for tid, label, _d, _m, unit, hib in TESTS:
        row = [label, unit + ("" if hib else " (lower is better)")]
        any_value = False
        for t in present:
            v = results[t].get(tid, (None, 0))[0]
            any_value = any_value or v is not None
            row.append(fmt(v, unit) if v is not None else "failed")
        ratios = [speed_ratio(results, a, b, tid, hib) for a, b in pairs]
        row += [fmt_ratio(r) for r in ratios]
        if any_value:
            L.append("| " + " | ".join(row) + " |")
            chart_rows.append((label, ratios))
    L.append("")
    for t in TARGETS:
        if t in skipped:
            L.append(f"**{t} not measured**: {skipped[t]}")
            L.append("")
        elif t not in present and t in meta.get("targets", "").split():
            L.append(f"**{t} not measured**: no results.")
            L.append("")
    L.append("### FUSE daemon memory")
    L.append("")
    L.append("From /proc/PID/status of the daemon at the end of its run (tmpfs has none). "
             "For daxfs, the mapped image pages it touched count as RssFile/RssShmem; "
             "RssAnon is its own heap and stacks.")
    L.append("")
    L.append("| Daemon | VmHWM (peak RSS) | VmRSS | RssAnon | RssFile | RssShmem |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    any_rss = False
    for t in ("daxfs", "daxfs-uring", "daxfs-libfuse", "bindfs"):
        p = os.path.join(out, "rss", t + ".txt")
        if not os.path.exists(p):
            continue
        kv = dict(line.split() for line in open(p) if len(line.split()) == 2)

        def mib(k):
            return f"{int(kv[k]) / 1024:,.1f} MiB" if k in kv else "—"
        L.append(f"| {t} | {mib('VmHWM')} | {mib('VmRSS')} | {mib('RssAnon')} | "
                 f"{mib('RssFile')} | {mib('RssShmem')} |")
        any_rss = True
    if not any_rss:
        L.append("| (no daemon measured) | | | | | |")
    L.append("")

    L += lease_section(out, meta)

    chart_note = make_chart(chart_rows, pairs, png, quick, bool(meta.get("note")))
    L.append("## Chart")
    L.append("")
    if chart_note is None:
        L.append(f"![Speed ratios]({os.path.basename(png)})")
    else:
        L.append(chart_note)
    L.append("")
    L.append("## How it was measured")
    L.append("")
    L.append(f"Scratch space: a fresh directory under {meta.get('scratch', '/dev/shm')}. "
             "The targets are set up, measured and torn down one after the other:")
    L.append("")
    L.append("- tmpfs: `mount -t tmpfs -o size=… tmpfs <DIR>`")
    L.append(f"- bindfs: `bindfs {meta.get('bindfs_options', '')} <SRC> <DIR>` with `<SRC>` in "
             "/dev/shm; these were its fastest options here (`big_writes` lifts the 4 KiB write "
             "size, `--multithreaded` serves requests in parallel, `kernel_cache` keeps the page "
             "cache across opens)")
    L.append(f"- daxfs: `daxfs mkfs <IMG> --size {meta.get('image_size', '?').replace(' MiB', 'M')}`, "
             "`daxfs mount <IMG> <DIR>`, with `<IMG>` in /dev/shm")
    L.append("- daxfs-uring: the same with `daxfs mount <IMG> <DIR> -o frontend=uring` (the kernel's "
             "`fuse.enable_uring` set to Y for the run if it was not)")
    L.append("- daxfs-libfuse: the same with `daxfs mount <IMG> <DIR> -o frontend=libfuse`")
    L.append("")
    L.append("fio commands (`<DIR>` is the target's mount point; the first command of each test "
             "is shown, every round runs the same):")
    L.append("")
    L.append("```")
    for tid, _label, *_rest in TESTS:
        if tid in commands:
            L.append(commands[tid])
    L.append("```")
    if "smallfiles" in commands:
        L.append("")
        L.append("Small files (`<DIR>/files` is a new directory; create, stat and unlink phases "
                 "each timed as a whole, files/s = files / phase time):")
        L.append("")
        L.append("```")
        L.append(commands["smallfiles"])
        L.append("```")
    L.append("")
    L.append("Before every seqwrite round the file is deleted, so it measures allocation too; "
             "seqread, mmapread and the random tests use that file. fio's default "
             "`invalidate=1` drops the file's page cache before each run. "
             "The small-file test is a short Python loop (os.open/os.write/os.close, os.stat, "
             "os.unlink) rather than fio's filecreate/filestat/filedelete engines, whose own "
             "per-file bookkeeping grows with the number of files (on tmpfs: 2,000 files at "
             "16,000/s but 10,000 at 1,700/s), so they measure fio rather than the file system "
             "at 10,000 files.")
    L.append("")
    if "lease" in commands:
        L.append("Leases (`<DIR>/lease.dat` is fallocated and written through the file system "
                 "first, so on daxfs its extents are 2 MiB-congruent; before each run the file's "
                 "page cache is dropped with posix_fadvise(DONTNEED), which empties the FUSE "
                 "page cache and leaves tmpfs pages, which are the file, alone):")
        L.append("")
        L.append("```")
        L.append(commands["lease"])
        L.append("```")
        L.append("")
        if "lease-2m" in commands:
            L.append("The 2 MiB set has a tmpfs of its own in the scratch directory, a daxfs image on "
                     "it mounted with the kernel front end, its lease file written the same way and "
                     "the tmpfs file beside the image (huge=within_size: 2 MiB pages for every range "
                     "inside a file's size, so for the whole image, made by mkfs's ftruncate, and the "
                     "whole fallocated tmpfs file; huge=advise would not do, since the daemon fills "
                     "the image with fallocate and pwrite, which never ask):")
            L.append("")
            L.append("```")
            L.append(commands["lease-2m"])
            L.append("```")
            L.append("")
        L.append("LeaseReadBench (lease-client) uses the same loops for every way: seq copies the "
                 "whole file once, 1 MiB at a time, into a private buffer (memcpy, as read(2) "
                 "does); rand copies 4 KiB blocks from random aligned offsets for the run time. "
                 "Each run starts from a fresh mapping or descriptor, so first-touch costs count "
                 "(page faults; for the mount, FUSE READs filling its page cache); the loops are "
                 "compiled on private memory before the clock starts, and the clock stops when the "
                 "loop ends (unmapping and releasing come after). The image way takes the lease "
                 "only to learn where the file lives, releases it, and maps that range of the "
                 "image file with FileChannel.map: the same memory as the lease, without it. "
                 "Page cache added: the change of `Cached` in /proc/meminfo around the timed part "
                 "(system-wide, so other activity shows in it too).")
        L.append("")
    L.append("Mount time: wall-clock time from starting the mount command (`mount -t tmpfs`, "
             "`bindfs`, `daxfs mount` of a freshly made image) until `mountpoint` reports the "
             "mount and `stat` of its root succeeds; then it is unmounted and the daemon "
             "waited for. For daxfs this includes starting the JVM.")
    L.append("")
    L.append(f"Raw fio JSON: `{os.path.relpath(out, os.path.dirname(doc))}/raw/` after a run "
             "(not committed).")
    L.append("")
    L.append("Daemon memory: the daxfs daemon maps the whole device, so every device page it "
             "touches through the mapping counts in its RSS as RssShmem (for an image in /dev/shm "
             "those pages are the image file's own; they are not extra memory). For an image file "
             "daxfs moves file data of a page or more with pread/pwrite, so only metadata pages "
             "are mapped in (docs/devdax.md, \"Bulk loads and stores\"). The daemon's own memory "
             "is RssAnon (Java heap, capped at 384 MiB by `daxfs mount`, plus native memory).")
    L.append("")
    L.append("In-process figures of fs-core's hot paths (JMH, no FUSE: range lock, invalidation "
             "sequence, allocator, reads and writes, directory lookups, journal commits) are in "
             "[jmh-results.md](jmh-results.md); `scripts/jmh` reproduces them.")
    L.append("")
    with open(doc, "w") as f:
        f.write("\n".join(L))
    print(f"bench_report: wrote {doc}" + ("" if chart_note else f" and {png}"), file=sys.stderr)
    # Echo the figures to the terminal too.
    print("\n".join(line for line in L if line.startswith("|")))


LEASE_SETS = [("4k", "4 KiB"), ("2m", "2 MiB")]
LEASE_WAYS = [("daxfs", "lease", "lease mapping of the device (daxfs)"),
              ("daxfs", "image", "mmap of the image at the lease's range, no lease"),
              ("tmpfs", "mmap", "mmap (tmpfs)"),
              ("daxfs", "mmap", "mmap of the mount (daxfs)"),
              ("daxfs", "read", "read(2) of the mount (daxfs)")]
LEASE_KEYS = ("mib_s", "iops", "cached_added_mib", "setup_ms", "teardown_ms", "file_cached_mib",
              "resident_mib", "pmd_mapped_mib")

# The lead's measurement behind the 4 KiB figures (issue 12), quoted in every report.
PLACEMENT_NOTE = (
    "Why two page sizes: with 4 KiB pages, how fast a mapping of tmpfs memory reads depends on "
    "which physical pages back it (guest-physical placement, in a VM), which differs from file to "
    "file and even between regions of one file. Measured on the 2-CPU VM on 2026-12-06 (second "
    "of two passes over a 1 GiB mmap, so no faults): the daxfs image's region 13.3-14.5 GB/s, the "
    "same bytes dd-copied into a fresh tmpfs file 20.1 GB/s, fresh fallocated tmpfs files "
    "19.5-22 GB/s, two regions of one fallocated image 19.3 and 13.3 GB/s; the lease took as "
    "many page faults as tmpfs mmap (perf stat: 43.5k and 39.8k per run), and a plain mapping of "
    "the image range without a lease (the image way) is as slow as the lease. So with 4 KiB pages "
    "the lease/tmpfs ratio compares two allocations of memory more than two ways of mapping it. "
    "With 2 MiB pages - what /dev/dax gives, and a tmpfs mounted huge=within_size or always "
    "(docs/leases.md, \"Page size\") - that measurement gave the lease 20.9-21.5 GB/s against "
    "17.1-19.5 GB/s for tmpfs mmap.")


def lease_results(out):
    """res[(set, target, way, mode)] = medians of LEASE_KEYS over the rounds (lease/SET/*.json)."""
    res = {}
    for s, _pages in LEASE_SETS:
        for t, way, _label in LEASE_WAYS:
            for mode in ("seq", "rand"):
                paths = sorted(glob.glob(os.path.join(out, "lease", s, f"{t}-{way}-{mode}.r*.json")))
                if s == "4k" and not paths:  # results of a bench from before the two sets
                    paths = sorted(glob.glob(os.path.join(out, "lease", f"{t}-{way}-{mode}.r*.json")))
                runs = []
                for p in paths:
                    try:
                        with open(p) as f:
                            runs.append(json.loads(f.read().strip().splitlines()[-1]))
                    except (ValueError, IndexError) as e:
                        print(f"bench_report: cannot read {p}: {e}", file=sys.stderr)
                if runs:
                    res[(s, t, way, mode)] = {k: statistics.median(r.get(k, -1) for r in runs) for k in LEASE_KEYS}
    return res


def huge_share(r):
    """How much of the resident mapping was 2 MiB-mapped, as text; — where unknown (read(2))."""
    if r is None or r.get("resident_mib", -1) <= 0 or r.get("pmd_mapped_mib", -1) < 0:
        return "—"
    return f"{100 * r['pmd_mapped_mib'] / r['resident_mib']:.0f} %"


def lease_section(out, meta):
    """The lease section: a file read through a lease mapping vs the image, the mount and tmpfs,
    with 4 KiB and with 2 MiB pages (lease/4k, lease/2m)."""
    res = lease_results(out)
    skipped_2m = ""
    p = os.path.join(out, "lease", "2m", "skipped.txt")
    if os.path.exists(p):
        skipped_2m = open(p).read().strip()
    if not res:
        return []
    L = ["## Leases: reading a file through a lease mapping", ""]
    setup = ", ".join(f"{res[(s, 'daxfs', 'lease', 'seq')]['setup_ms']:.0f} ms ({pages} pages)"
                      for s, pages in LEASE_SETS if (s, "daxfs", "lease", "seq") in res)
    L.append(f"A {meta.get('file_size', '?')} file read sequentially (1 MiB copies) and at random "
             "(4 KiB copies), each way from a fresh mapping with the file's page cache dropped; "
             "the page cache each way adds; median of the rounds, the ways interleaved. Twice: on "
             "images and tmpfs files backed by 4 KiB pages (in the scratch directory) and by 2 MiB "
             "pages (a tmpfs mounted huge=within_size). Goals (docs/leases.md): a lease reads at "
             "least 0.9× as fast as tmpfs mmap, and adds no page cache. Setup (taking the lease and "
             "mapping it, in a fresh JVM; or opening and mapping the file) and teardown (unmapping, "
             f"releasing) are not in the figures: median setup of the lease way {setup or '—'}.")
    L.append("")
    L.append("| Pages | Way | Sequential MiB/s | ×tmpfs mmap | 2 MiB-mapped | Cached added | mount's page cache after "
             "| Random 4 KiB MiB/s | IOPS | ×tmpfs mmap | Cached added | mount's page cache after |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s, pages in LEASE_SETS:
        if not any(k[0] == s for k in res):
            continue
        base = {m: res.get((s, "tmpfs", "mmap", m), {}).get("mib_s") for m in ("seq", "rand")}
        for t, way, label in LEASE_WAYS:
            row = [pages, label]
            for mode in ("seq", "rand"):
                r = res.get((s, t, way, mode))
                if r is None:
                    row += ["—"] * 5
                    continue
                row.append(fmt(r["mib_s"], "MiB/s"))
                if mode == "rand":
                    row.append(f"{r['iops']:,.0f}")
                row.append(fmt_ratio(r["mib_s"] / base[mode]) if base[mode] else "—")
                if mode == "seq":
                    row.append(huge_share(r))
                row.append(f"{round(r['cached_added_mib']) + 0:,d} MiB")  # + 0: no "-0"
                row.append(f"{r['file_cached_mib']:,.0f} MiB" if t == "daxfs" and r["file_cached_mib"] >= 0 else "—")
            L.append("| " + " | ".join(row) + " |")
    L.append("")
    L.append("2 MiB-mapped: how much of the mapping, as resident after the sequential run, was mapped "
             "with 2 MiB pages (ShmemPmdMapped + FilePmdMapped in the reader's /proc/self/smaps). "
             "Cached added: the change of `Cached` in /proc/meminfo around the timed part (system-wide). "
             "Mount's page cache after: the read file's cached pages afterwards (`fincore`), i.e. the "
             "FUSE page cache of the mount's file - the lease way reads the device, never the mount.")
    L.append("")
    huge = read_tsv(os.path.join(out, "lease", "2m", "hugepages.txt"))
    if skipped_2m:
        L.append(f"**2 MiB pages not measured**: {skipped_2m}")
        L.append("")
    elif huge:
        L.append(f"2 MiB pages: the tmpfs was mounted `{huge.get('mount', '?')}`; ShmemHugePages in "
                 f"/proc/meminfo grew by {huge.get('shmem_huge_added_mib', '?')} MiB while its two files "
                 f"({huge.get('files_mib', '?')} MiB together) were written; the daxfs file: "
                 f"`{huge.get('lease', '?')}`.")
        try:
            short = int(huge["shmem_huge_added_mib"]) < int(huge["files_mib"]) // 2
        except (KeyError, ValueError):
            short = False
        if short:
            L.append("**The kernel gave the huge tmpfs few or no 2 MiB pages**: the \"2 MiB\" rows were "
                     "not measured on 2 MiB pages (see their 2 MiB-mapped column; "
                     "/sys/kernel/mm/transparent_hugepage/shmem_enabled and the hugepages-2048kB "
                     "settings decide).")
        L.append("")
    four = read_tsv(os.path.join(out, "lease", "4k", "pages.txt"))
    if four.get("mount") and "huge=" in four["mount"] and "huge=never" not in four["mount"]:
        L.append(f"Note: the scratch directory's tmpfs is mounted `{four['mount']}`, so the \"4 KiB\" "
                 "set may have had huge pages too (see its 2 MiB-mapped column).")
        L.append("")
    goals = []
    for s, pages in LEASE_SETS:
        lease, tmp = res.get((s, "daxfs", "lease", "seq")), res.get((s, "tmpfs", "mmap", "seq"))
        if not (lease and tmp):
            continue
        ratio = lease["mib_s"] / tmp["mib_s"]
        rand, rand_tmp = res.get((s, "daxfs", "lease", "rand")), res.get((s, "tmpfs", "mmap", "rand"))
        rand_ratio = f", random {rand['mib_s'] / rand_tmp['mib_s']:.2f}×" if rand and rand_tmp else ""
        image = res.get((s, "daxfs", "image", "seq"))
        vs_image = f"; lease/image {lease['mib_s'] / image['mib_s']:.2f}×" if image else ""
        goals.append(f"with {pages} pages {ratio:.2f}× sequentially{rand_ratio} "
                     f"({'met' if ratio >= 0.9 else 'not met'}{vs_image})")
    mount_cache = max([res.get((s, "daxfs", "lease", m), {}).get("file_cached_mib", -1)
                       for s, _p in LEASE_SETS for m in ("seq", "rand")] or [-1])
    if goals:
        size_mib = float(meta.get("file_size", "1024 MiB").split()[0])
        L.append("Goals: lease read ÷ tmpfs mmap " + "; ".join(goals) + ". The mount's page cache after "
                 f"reading the {size_mib:.0f} MiB file through the lease: {mount_cache:.0f} MiB "
                 f"({'met' if 0 <= mount_cache < 1 else 'not met'}).")
        L.append("")
    L.append(PLACEMENT_NOTE)
    L.append("")
    return L


def make_chart(rows, pairs, png, quick, noted=False):
    """Returns None on success, or a sentence saying why there is no chart."""
    if not pairs or not rows:
        return "No chart: fewer than two file systems were measured."
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "No chart: matplotlib is not installed (apt-get install python3-matplotlib)."
    labels = [r[0] for r in rows]
    n = len(pairs)
    height = 0.8 / n
    colors = {"daxfs/tmpfs": "#1f77b4", "daxfs/bindfs": "#ff7f0e", "bindfs/tmpfs": "#9a9a9a",
              "daxfs/daxfs-libfuse": "#2ca02c", "daxfs-uring/bindfs": "#d62728",
              "daxfs-uring/daxfs": "#9467bd"}
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(rows) * max(1, n / 1.5) + 1.5))
    for i, (a, b) in enumerate(pairs):
        name = f"{a}/{b}"
        ys = [j + (i - (n - 1) / 2) * height for j in range(len(rows))]
        vals = [r[1][i] if r[1][i] is not None else 0 for r in rows]
        bars = ax.barh(ys, vals, height=height * 0.95, label=name, color=colors.get(name))
        for bar, v in zip(bars, vals):
            if v:
                ax.text(v * 1.03, bar.get_y() + bar.get_height() / 2,
                        f"{v:.2f}" if v >= 0.1 else f"{v:.2g}",
                        va="center", fontsize=7)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    present_vals = [v for r in rows for v in r[1] if v]
    if present_vals:
        ax.set_xlim(min(min(present_vals) / 1.5, 0.5), max(max(present_vals) * 2.0, 2.0))
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speed ratio (log scale; > 1: the first file system is faster)")
    ax.set_title("daxfs benchmark: speed ratios" + (" (quick mode)" if quick else "")
                 + ("\n(read the note at the top of the report)" if noted else ""))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return None


if __name__ == "__main__":
    main()
