#!/usr/bin/env python3
"""Progress of a long script run: progress.py TOTAL DESCRIPTION.

Reads one line per finished piece of work from standard input, "N<TAB>TEXT": N steps done
(1 for a finished step; more when a failure or a skipped target jumps over several), TEXT
what was done. On a terminal (standard error is a tty) with Debian's python3-tqdm installed it
shows a tqdm bar and prints each TEXT above it; otherwise (a log file, CI, a pipe, or no tqdm)
it prints plain lines "[done/TOTAL] TEXT" and nothing else. Used by scripts/bench.
"""
import sys


def main():
    total = int(sys.argv[1])
    desc = sys.argv[2] if len(sys.argv) > 2 else ""
    bar = None
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm
            bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr, dynamic_ncols=True,
                       bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")
        except ImportError:
            bar = None
    done = 0
    for line in sys.stdin:
        line = line.rstrip("\n")
        count, _, text = line.partition("\t")
        try:
            n = int(count)
        except ValueError:
            n, text = 1, line
        done = min(total, done + n)
        if bar is not None:
            if text:
                bar.write(text, file=sys.stderr)
            bar.update(min(n, total - bar.n))
        elif text:
            print("[%d/%d] %s" % (done, total, text), file=sys.stderr, flush=True)
    if bar is not None:
        bar.close()


if __name__ == "__main__":
    main()
