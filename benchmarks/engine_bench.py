#!/usr/bin/env python3
"""The QUEUE engine benchmark: QUEUE against an InnoDB table used as a queue, on one private
server in one run, syncing off and on, measured by a C client on libmariadb (benchmarks/c/qbench.c,
threads for concurrency) and, as a second column, by the same statements on Python/MySQLdb.

    .venv/bin/python benchmarks/engine_bench.py [--repeat 3] [--ops 10000] [--port P]

Builds the C client, starts its own server (scripts/q4m-server; a free port and a temporary
datadir unless given), runs every case --repeat times (rounds interleaved, so that drift in the
machine's load hits every case alike), prints the tables and writes benchmarks/results/engine.md.
Each number is the median of the rounds; the range (min-max) is shown for the C client.

Targets (ratios measured in this run):
* consuming from QUEUE >= 3 x the InnoDB pattern (same consumers, same sync setting);
* 16 concurrent producers, syncing on: >= 8 rows per flush (rows_written / sys_sync from
  SHOW ENGINE QUEUE STATUS, deltas over that measurement).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cclient  # noqa: E402
import pyclient  # noqa: E402
from benchserver import bench_server  # noqa: E402
from cpuwatch import CpuWatch  # noqa: E402
from report_format import fmt_ratio, machine, median, spread, table, verdict  # noqa: E402

RESULTS = HERE / "results" / "engine.md"
TARGET_QUEUE_OVER_INNODB = 3.0
TARGET_ROWS_PER_FLUSH = 8.0


@dataclass(frozen=True)
class Case:
    key: str
    what: str
    statements: str        # the statements of one job, as a reader would write them
    mode: str              # qbench / pyclient mode
    engine: str | None     # table engine, None for no table
    threads: int
    prefill: bool          # consumers need the rows there beforehand
    round_trips: int


CASES = [
    Case("select1", "`SELECT 1` (the unit)", "`SELECT 1`", "select1", None, 1, False, 1),
    Case("q_insert1", "QUEUE INSERT, 1 producer", "`INSERT INTO t VALUES (n, 'payload-n')`",
         "insert", "QUEUE", 1, False, 1),
    Case("q_insert16", "QUEUE INSERT, 16 producers", "as above", "insert", "QUEUE", 16, False, 1),
    Case("q_wait2", "QUEUE consume, 2 round trips",
         "`SELECT queue_wait('t',1)` + `SELECT * FROM t`", "wait", "QUEUE", 1, True, 2),
    Case("q_wait1", "QUEUE consume, 1 round trip",
         "`SELECT queue_wait('t',1); SELECT * FROM t`", "wait1", "QUEUE", 1, True, 1),
    Case("q_gem", "QUEUE consume, the gem's 3 statements",
         "`queue_wait`, `SELECT *`, `queue_end()`", "gem", "QUEUE", 1, True, 3),
    Case("q_wait2_8", "QUEUE consume, 2 round trips, 8 consumers", "as above", "wait", "QUEUE",
         8, True, 2),
    Case("q_wait1_8", "QUEUE consume, 1 round trip, 8 consumers", "as above", "wait1", "QUEUE",
         8, True, 1),
    Case("i_insert1", "InnoDB INSERT, 1 producer", "`INSERT INTO ti VALUES (n, 'payload-n')`",
         "insert", "InnoDB", 1, False, 1),
    Case("i_insert16", "InnoDB INSERT, 16 producers", "as above", "insert", "InnoDB", 16, False, 1),
    Case("i_consume", "InnoDB consume, 1 consumer",
         "`SELECT id,v FROM ti ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, `DELETE`, `COMMIT`",
         "innodb", "InnoDB", 1, True, 3),
    Case("i_consume8", "InnoDB consume, 8 consumers", "as above", "innodb", "InnoDB", 8, True, 3),
]

# (QUEUE case, InnoDB case): consuming, QUEUE must be >= 3x
QUEUE_VS_INNODB = [("q_wait1", "i_consume"), ("q_wait1_8", "i_consume8"),
                   ("q_wait2", "i_consume"), ("q_wait2_8", "i_consume8")]


def measure(server, case: Case, client: str, ops: int) -> dict:
    """Fresh table, prefill if consuming, one timed run; adds the engine's counter deltas."""
    name = "ti" if case.engine == "InnoDB" else "t"
    if case.engine:
        server.recreate(name, case.engine)
        if case.prefill:
            server.fill(name, ops)
    before = server.queue_status()
    with CpuWatch(server.pid) as watch:
        if client == "c":
            out = cclient.run(case.mode, server.port, threads=case.threads, ops=ops, table=name)
        else:
            out = pyclient.run(case.mode, server.port, driver=client, threads=case.threads,
                               ops=ops, table=name)
    after = server.queue_status()
    out["server_cpu"] = watch.server
    out["others_cores"] = watch.others_cores
    out["rows_written"] = after["rows_written"] - before["rows_written"]
    out["sys_sync"] = after["sys_sync"] - before["sys_sync"]
    if case.engine and not case.prefill:
        server.sql(f"DROP TABLE IF EXISTS {name}")
    return out


def run_all(server, repeat: int, ops: int, clients: list[str], progress=print):
    """results[(sync, case key, client)] = [one dict per round]"""
    results: dict = defaultdict(list)
    for rnd in range(1, repeat + 1):
        for sync in (False, True):
            server.set_sync(sync)
            for case in CASES:
                for client in clients:
                    out = measure(server, case, client, ops)
                    results[(sync, case.key, client)].append(out)
                    progress(f"  round {rnd}/{repeat} sync {'on ' if sync else 'off'} "
                             f"{client:8} {case.what:45} {out['rate']:>9,.0f} /s")
    return results


def rates(results, sync, key, client):
    return [r["rate"] for r in results.get((sync, key, client), [])]


def paired_ratio(results, sync, key, ref_key, client) -> float:
    """Median over the rounds of key's rate over ref_key's rate in the same round (each round
    measures every case once, minutes apart at most: a neighbour's load that comes and goes
    hits both sides of each ratio alike)."""
    mine, theirs = rates(results, sync, key, client), rates(results, sync, ref_key, client)
    return median(a / b for a, b in zip(mine, theirs))


def build_report(results, server_version: str, repeat: int, ops: int, clients: list[str],
                 elapsed: float, where: str | None = None) -> tuple[str, list[tuple[str, bool]]]:
    lines = ["# QUEUE engine benchmark", "",
             f"MariaDB {server_version} with our QUEUE engine, one private server, one run; "
             f"{where or machine()}.",
             f"Each case: {ops:,} rows (jobs or round trips) per measurement, {repeat} rounds, "
             "rounds interleaved across all cases; numbers are the **median** of the rounds "
             "(C column: median (min-max)). Consumers start on a full table; every "
             "measurement gets a freshly created table. Rows are `(id INT, v VARCHAR(64))`.",
             "Syncing: `queue_sync` for QUEUE and, for a like-for-like InnoDB, "
             "`innodb_flush_log_at_trx_commit` = 1 (on) or 2 (off).",
             "*In SELECT 1 round trips*: the C client's time per job on one connection divided by "
             "its time per `SELECT 1` on one connection, same sync setting, same run. "
             "*CPU* columns: CPU time per row of the server process and of the client process "
             "(C client); *other processes' CPU*: cores used by everything else on the machine "
             "during the measurement (the machine is shared; high values mark disturbed rows). "
             "Ratios (targets) are paired: the median over the rounds of the two cases' rates "
             "in the same round.",
             f"Total time {elapsed:.0f} s.", ""]
    checks: list[tuple[str, bool]] = []
    c = "c" if "c" in clients else clients[0]
    others = [cl for cl in clients if cl != c]
    lines += ["Statements of one job:", ""]
    seen = set()
    for case in CASES:
        if case.mode not in seen:
            seen.add(case.mode)
            lines.append(f"* {case.what} ({case.engine or 'no table'}, {case.round_trips} "
                         f"round trip(s)): {case.statements}")
    lines.append("")
    for sync in (False, True):
        head = ["what", "connections", "round trips per job", "C client: rows/s (min-max)",
                "µs per row", "in SELECT 1 round trips", "server CPU µs per row",
                "client CPU µs per row", "other processes' CPU (cores)"]
        head += [f"{cl}: rows/s" for cl in others]
        rows = []
        for case in CASES:
            rs = results.get((sync, case.key, c), [])
            if not rs:
                continue
            m = median(r["rate"] for r in rs)
            one = case.threads == 1
            row = [case.what, str(case.threads), str(case.round_trips),
                   spread([r["rate"] for r in rs]),
                   f"{1e6 / m:.0f}" + ("" if one else " (all)"),
                   fmt_ratio(paired_ratio(results, sync, "select1", case.key, c)) if one else "-",
                   f"{median(1e6 * r['server_cpu'] / r['ops'] for r in rs):.0f}",
                   f"{median(1e6 * r['client_cpu'] / r['ops'] for r in rs):.0f}",
                   f"{median(r['others_cores'] for r in rs):.2f}"]
            for cl in others:
                other = rates(results, sync, case.key, cl)
                row.append(f"{median(other):,.0f}" if other else "-")
            rows.append(row)
        lines += [f"## Syncing {'on' if sync else 'off'}", "", table(head, rows), ""]

    # targets
    trows = []
    for sync in (False, True):
        for q, i in QUEUE_VS_INNODB:
            qr, ir = median(rates(results, sync, q, c)), median(rates(results, sync, i, c))
            ratio = paired_ratio(results, sync, q, i, c)
            ok = ratio >= TARGET_QUEUE_OVER_INNODB
            what = (f"QUEUE consume ({next(x.what for x in CASES if x.key == q)}) / InnoDB "
                    f"consume, syncing {'on' if sync else 'off'}")
            trows.append([what, f"≥ {TARGET_QUEUE_OVER_INNODB:g}x",
                          f"{ratio:.2f}x (medians {qr:,.0f} / {ir:,.0f})", verdict(ok)])
            checks.append((what, ok))
    flush = results[(True, "q_insert16", c)]
    written = sum(r["rows_written"] for r in flush)
    syncs = sum(r["sys_sync"] for r in flush)
    per_flush = written / syncs if syncs else float("inf")
    ok = per_flush >= TARGET_ROWS_PER_FLUSH
    what = "rows per flush, 16 concurrent producers, syncing on"
    trows.append([what, f"≥ {TARGET_ROWS_PER_FLUSH:g}",
                  f"{written:,} rows_written / {syncs:,} sys_sync = {per_flush:.2f}", verdict(ok)])
    checks.append((what, ok))
    lines += ["## Targets", "", table(["target", "wanted", "measured (C client, paired)",
                                       "verdict"], trows), ""]

    # flushes, all cases, syncing on
    frows = []
    for case in CASES:
        if case.engine != "QUEUE":
            continue
        rs = results[(True, case.key, c)]
        w = sum(r["rows_written"] for r in rs)
        s = sum(r["sys_sync"] for r in rs)
        jobs = sum(r["ops"] for r in rs)
        frows.append([case.what, f"{jobs:,}", f"{w:,}", f"{s:,}",
                      fmt_ratio(s / jobs) if jobs else "-"])
    lines += ["## Flushes, syncing on (C client, all rounds summed; `SHOW ENGINE QUEUE STATUS`)",
              "", table(["what", "jobs", "rows_written", "sys_sync", "flushes per job"], frows),
              ""]
    off_syncs = sum(r["sys_sync"] for k, v in results.items() if not k[0] for r in v)
    lines += [f"Syncing off: {off_syncs} flushes in all rounds of all cases.", ""]
    return "\n".join(lines), checks


def save_raw(path: Path, results, meta: dict) -> None:
    """Every round of every case, and what build_report needs besides, as JSON."""
    raw = {**meta, "results": [{"sync": k[0], "case": k[1], "client": k[2], "rounds": v}
                               for k, v in results.items()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw, indent=1) + "\n")


def load_raw(path: Path):
    raw = json.loads(path.read_text())
    results = {(r["sync"], r["case"], r["client"]): r["rounds"] for r in raw.pop("results")}
    return results, raw


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--ops", type=int, default=5000, help="rows per measurement (5000)")
    ap.add_argument("--port", type=int, help="server port (default: a free one)")
    ap.add_argument("--datadir", help="server datadir (default: a new temporary one)")
    ap.add_argument("--no-python", action="store_true", help="C client only")
    ap.add_argument("--output", type=Path, default=RESULTS,
                    help=f"(default {RESULTS}; every round goes to the same name .json)")
    ap.add_argument("--from-json", type=Path, metavar="JSON",
                    help="measure nothing: render the report of an earlier run's .json")
    args = ap.parse_args(argv)
    clients = ["c"] if args.no_python else ["c", "mysqldb"]

    if args.from_json:
        results, meta = load_raw(args.from_json)
        version, clients, where = meta["server"], meta["clients"], meta["machine"]
        args.repeat, args.ops, elapsed = meta["repeat"], meta["ops"], meta["seconds"]
    else:
        cclient.build()
        t0, where = time.monotonic(), machine()
        with bench_server(args.port, args.datadir) as server:
            print(f"server on port {server.port} ({server.datadir})", flush=True)
            version = server.version()
            results = run_all(server, args.repeat, args.ops, clients,
                              progress=lambda s: print(s, flush=True))
        elapsed = time.monotonic() - t0
        save_raw(args.output.with_suffix(".json"), results,
                 {"server": version, "clients": clients, "repeat": args.repeat, "ops": args.ops,
                  "seconds": elapsed, "machine": where})
    text, checks = build_report(results, version, args.repeat, args.ops, clients, elapsed, where)
    print()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written to {args.output}")
    missed = [w for w, ok in checks if not ok]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
