"""The pipeline benchmark's plain-Python baseline: the same per-record work, one process.

Usage: python benchmarks/pipeline_baseline.py RECORDS
Per record: compute ``(x % 1000, 1)``, take its key, keep a running per-key sum that
makes a new ``(key, acc)`` tuple per record (as the keyed ``sum(1)`` does: the first
record of a key is kept as is), and call a discarding function with it.
Prints ``JOB_WALL_S <seconds>`` for the loop alone.
"""

import sys
import time


def discard(value) -> None:
    return None


def main() -> None:
    n = int(sys.argv[1])
    started = time.perf_counter()
    sums = {}
    for x in range(n):
        t = (x % 1000, 1)
        k = t[0]
        acc = sums.get(k)
        acc = t if acc is None else (acc[0], acc[1] + t[1])
        sums[k] = acc
        discard(acc)
    print(f"JOB_WALL_S {time.perf_counter() - started:.6f}", flush=True)
    if sum(v for _, v in sums.values()) != n:
        sys.exit("pipeline baseline: wrong total")


if __name__ == "__main__":
    main()
