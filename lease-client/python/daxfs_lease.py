#!/usr/bin/env python3
"""A minimal daxfs lease client in Python (standard library only): maps a file of a daxfs mount
straight from device memory. It speaks the protocol of docs/leases.md - ioctls of 4096-byte
little-endian messages on a descriptor opened through the mount - to show that the protocol
needs nothing of Java.

    with Lease("/mnt/pm/data") as lease:          # a read lease of the whole file
        head = lease.read(0, 16)                  # bytes straight from the device
        if lease.broken(): ...                    # truncated, punched, unlinked or renamed over

    python3 daxfs_lease.py FILE                   # print the device and the file's extents
    python3 daxfs_lease.py --hold FILE            # hold a read lease until stdin closes
    python3 daxfs_lease.py --list MOUNT           # every lease of the mount
"""
import fcntl
import mmap
import os
import select
import struct
import sys

MAGIC, VERSION, SIZE = 0x46584144, 1, 4096
DEVICE, LEASE, UNLEASE, FLUSH, STATUS, LIST = 1, 2, 3, 4, 5, 6
MORE, CONGRUENT, PARTIAL, BROKEN, WRITE = 1, 1, 2, 1, 2
POLLPRI = 2


def ioctl_number(command):
    """_IOWR(0xDA, command, 4096)."""
    return (3 << 30) | (SIZE << 16) | (0xDA << 8) | command


def call(fd, command, body=b""):
    """One command: header + body in a 4096-byte buffer, answered in place."""
    buf = bytearray(SIZE)
    struct.pack_into("<IHHII", buf, 0, MAGIC, VERSION, command, 16 + len(body), 0)
    buf[16:16 + len(body)] = body
    fcntl.ioctl(fd, ioctl_number(command), buf, True)
    magic, version, cmd, length, flags = struct.unpack_from("<IHHII", buf, 0)
    assert magic == MAGIC and cmd == command, "not a daxfs reply"
    return buf, flags


def device(fd):
    buf, _ = call(fd, DEVICE)
    kind, block, map_align, huge, size, dmaj, dmin, ino, rmaj, rmin, plen = struct.unpack_from(
        "<IIQQQIIQIII", buf, 16)
    return {"path": bytes(buf[80:80 + plen]).decode(), "devdax": kind == 2, "map_align": map_align,
            "huge_align": huge, "size": size, "dev": (dmaj, dmin), "ino": ino, "rdev": (rmaj, rmin)}


class Lease:
    """A lease on [offset, offset+length) of path (length 0: to the end of file), mapped."""

    def __init__(self, path, write=False, offset=0, length=0, map_it=True):
        self.fd = os.open(path, os.O_RDWR if write else os.O_RDONLY)
        self.write = write
        self.maps = []
        self.dev_fd = -1
        try:
            self.device = device(self.fd)
            self.parts = []
            at, end = offset, (offset + length if length else 0)
            while True:
                body = struct.pack("<IIQQ", 2 if write else 1, 0, at, end - at if end else 0)
                buf, _ = call(self.fd, LEASE, body)
                lid, loff, llen, _mode, count, flags = struct.unpack_from("<QQQIII", buf, 16)
                pieces = [struct.unpack_from("<QQQ", buf, 56 + 24 * i) for i in range(count)]
                self.parts.append((lid, loff, llen, flags, pieces))
                at = loff + llen
                if not flags & PARTIAL or (end and at >= end):
                    break
            self.offset = self.parts[0][1]
            self.length = at - self.offset
            self.pieces = [p for part in self.parts for p in part[4]]
            self.ids = [part[0] for part in self.parts]
            if map_it:
                self._map()
        except BaseException:
            self.close()
            raise

    def _map(self):
        d = self.device
        self.dev_fd = os.open(d["path"], os.O_RDWR if self.write else os.O_RDONLY)
        st = os.fstat(self.dev_fd)
        same = ((os.major(st.st_rdev), os.minor(st.st_rdev)) == d["rdev"] if d["devdax"] else
                (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino) == (*d["dev"], d["ino"]))
        if not same:
            raise OSError(f"{d['path']} is not the device the daxfs daemon mapped")
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if self.write else 0)
        align = d["map_align"]
        # 2 MiB-congruent: ask for huge pages (a tmpfs mounted huge=advise gives them only to
        # mappings that ask); best effort, as in the Java client.
        huge = all(part[3] & CONGRUENT for part in self.parts) and hasattr(mmap, "MADV_HUGEPAGE")
        for file_off, dev_off, length in self.pieces:
            start = dev_off - dev_off % align           # device-DAX maps in units of its alignment
            stop = -(-(dev_off + length) // align) * align
            m = mmap.mmap(self.dev_fd, stop - start, flags=mmap.MAP_SHARED, prot=prot, offset=start)
            if huge:
                try:
                    m.madvise(mmap.MADV_HUGEPAGE)
                except OSError:
                    pass
            self.maps.append((file_off, length, m, dev_off - start))

    def read(self, offset, n):
        """n bytes of the file at offset, from the mapping (holes of the range read as zeros)."""
        out = bytearray(n)
        for file_off, length, m, skew in self.maps:
            lo, hi = max(offset, file_off), min(offset + n, file_off + length)
            if lo < hi:
                out[lo - offset:hi - offset] = m[skew + lo - file_off:skew + hi - file_off]
        return bytes(out)

    def store(self, offset, data):
        """Stores data at file offset through the mapping (a write lease)."""
        for file_off, length, m, skew in self.maps:
            lo, hi = max(offset, file_off), min(offset + len(data), file_off + length)
            if lo < hi:
                m[skew + lo - file_off:skew + hi - file_off] = data[lo - offset:hi - offset]

    def broken(self):
        after = 0
        while True:
            buf, flags = call(self.fd, STATUS, struct.pack("<Q", after))
            count, _ = struct.unpack_from("<II", buf, 16)
            for i in range(count):
                lid, _o, _l, _m, state = struct.unpack_from("<QQQII", buf, 24 + 32 * i)
                after = lid
                if state & BROKEN and lid in self.ids:
                    return True
            if not flags & MORE:
                return False

    def wait_break(self, timeout):
        """True if a lease of this descriptor breaks within timeout seconds (poll for POLLPRI)."""
        p = select.poll()
        p.register(self.fd, select.POLLPRI)
        return any(ev & POLLPRI for _, ev in p.poll(int(timeout * 1000)))

    def flush(self):
        for m in self.maps:
            m[2].flush()
        for lid in self.ids:
            call(self.fd, FLUSH, struct.pack("<Q", lid))

    def close(self):
        for m in self.maps:
            m[2].close()
        self.maps = []
        if self.dev_fd >= 0:
            os.close(self.dev_fd)
            self.dev_fd = -1
        if self.fd >= 0:
            try:
                call(self.fd, UNLEASE, struct.pack("<Q", 0))
            except OSError:
                pass  # closing the descriptor releases them anyway
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def list_leases(mount):
    """Every lease of the mount: (held busy bytes, [dict per lease])."""
    fd = os.open(mount, os.O_RDONLY | os.O_DIRECTORY)
    try:
        out, after = [], 0
        while True:
            buf, flags = call(fd, LIST, struct.pack("<Q", after))
            count, _total, held = struct.unpack_from("<IIQ", buf, 16)
            at = 32
            for _ in range(count):
                lid, ino, off, length, age, busy, pid, state, rlen, plen = struct.unpack_from(
                    "<QQQQQQIIHH", buf, at)
                path = bytes(buf[at + 64:at + 64 + plen]).decode(errors="replace")
                out.append({"id": lid, "pid": pid, "ino": ino, "path": path, "offset": off, "length": length,
                            "age_ns": age, "busy_bytes": busy, "broken": bool(state & BROKEN),
                            "write": bool(state & WRITE)})
                after, at = lid, at + rlen
            if not flags & MORE:
                return held, out
    finally:
        os.close(fd)


def main(argv):
    if len(argv) == 2 and argv[0] == "--list":
        held, leases = list_leases(argv[1])
        print(f"{len(leases)} leases, {held} busy bytes held")
        for lease in leases:
            print(lease)
        return 0
    hold = argv[:1] == ["--hold"]
    path = argv[-1] if argv else None
    if path is None or len(argv) != (2 if hold else 1):
        print(__doc__, file=sys.stderr)
        return 2
    with Lease(path, map_it=hold) as lease:
        d = lease.device
        print(f"device {d['path']} ({'device-DAX' if d['devdax'] else 'image file'}, map alignment {d['map_align']})")
        print(f"lease {lease.ids} of [{lease.offset}, {lease.offset + lease.length})")
        for file_off, dev_off, length in lease.pieces:
            print(f"  file {file_off:>14}  device {dev_off:>14}  length {length}")
        if hold:
            print("holding", flush=True)
            sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
