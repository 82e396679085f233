#!/usr/bin/env python3
"""A worker process whose memory the library benchmark watches: one q4m_fast Job (no-op) works
off --jobs rows with Job.work(), and prints its resident set size (VmRSS, and VmHWM, the peak)
after each checkpoint's number of jobs, as one JSON object per line:

    {"jobs": 10000, "rss_kb": 23456, "hwm_kb": 23460, "seconds": 1.52}

Run by bench_library.py in a process of its own, so that nothing else lives in its heap.
The loop comes from Q4M_FAST_IMPL (c or python), as for any worker.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import q4m_fast


def memory_kb() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return {"rss_kb": out["VmRSS"], "hwm_kb": out["VmHWM"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--jobs", type=int, required=True)
    ap.add_argument("--checkpoints", required=True, help="comma-separated job counts")
    args = ap.parse_args(argv)
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",")} | {args.jobs})

    class RssJob(q4m_fast.Job):
        table_name = args.table

        def execute(self, job) -> None:
            pass

    job = RssJob(args.dsn, timeout=1)
    start = time.perf_counter()
    done = 0

    def report() -> None:
        sample = {"jobs": done, **memory_kb(), "seconds": round(time.perf_counter() - start, 3),
                  "impl": q4m_fast.__impl__}
        print(json.dumps(sample), flush=True)

    def after_execute(instance, row, duration) -> None:
        nonlocal done
        done += 1
        if done in wanted:
            report()

    wanted = set(checkpoints)
    job.on("after_execute", after_execute)
    _ = job.connection      # connected, columns read, loop built: the baseline
    if 0 in wanted:
        report()
    executed = job.work(max_jobs=args.jobs, handle_signals=False)
    job.close()
    if executed != args.jobs:
        print(f"rss_worker: executed {executed} jobs, not {args.jobs}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
