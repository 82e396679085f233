"""The library benchmarks' report: benchmarks/results/latest.md (tables and targets) and
latest-threads.png (jobs/s against thread count), from the results bench_library.py collects.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from report_format import machine, table, verdict

# group -> (title, what the ratio column compares with)
GROUPS = {
    "loops": ("Job loops: no-op jobs, one connection, syncing off",
              "(e) the C reference loop"),
    "loops-sync": ("Job loops: no-op jobs, one connection, syncing on (a flush per job)",
                   "(e) the C reference loop"),
    "threads-sleep": ("(a) on T threads, a job that blocks 1 ms in C (time.sleep(0.001)), "
                      "syncing off", "1 thread"),
    "threads-python": ("(a) on T threads, a job of 1 ms of pure-Python work (holds the GIL), "
                       "syncing off", "1 thread"),
    "enqueue": ("Enqueue: one row per call vs many", "enqueue() at the same sync setting"),
}

TARGETS = [
    # (description, group, key, reference group, reference key, minimum ratio, ceiling key)
    # ceiling: the same ratio with (e), the C loop, in place of (a): what a client with no
    # overhead at all would reach against the same reference, same server, same run
    ("(a) Cython loop >= 0.9 x (e) C reference loop", "loops", "a", "loops", "e", 0.9, None),
    ("(a) Cython loop >= 3 x (c) gem pattern on MySQLdb", "loops", "a", "loops", "c", 3.0, "e"),
    ("(a) Cython loop >= 1.3 x (b) pure-Python loop", "loops", "a", "loops", "b", 1.3, "e"),
    ("1 ms blocking job: 16 threads >= 12 x 1 thread", "threads-sleep", "16", "threads-sleep",
     "1", 12.0, None),
]
RSS_GROWTH_LIMIT_MB = 5.0


@dataclass
class Result:
    group: str
    key: str
    what: str
    jobs: int                  # per round
    data: list[float]          # seconds of each round
    reference: str | None = None   # key of the group's reference row, None: this is it
    extra: dict = field(default_factory=dict)
    passes: list[int] = field(default_factory=list)   # the pass of each round

    @property
    def rounds(self) -> int:
        return len(self.data)

    @property
    def median(self) -> float:
        return statistics.median(self.data)

    @property
    def rate(self) -> float:
        return self.jobs / self.median

    def pass_rates(self) -> dict[int, float]:
        """jobs/s in each pass (median of that pass's rounds)."""
        by_pass: dict[int, list[float]] = {}
        for p, d in zip(self.passes or [1] * len(self.data), self.data):
            by_pass.setdefault(p, []).append(d)
        return {p: self.jobs / statistics.median(ds) for p, ds in by_pass.items()}


def paired_ratio(r: Result, ref: Result) -> tuple[float, int]:
    """(median over the passes both were measured in of r's jobs/s over ref's in that pass,
    number of passes). Contestants of one pass run one after the other, seconds apart, so a
    neighbour's load that comes and goes hits both sides of each ratio alike."""
    mine, theirs = r.pass_rates(), ref.pass_rates()
    common = sorted(set(mine) & set(theirs))
    if not common:
        return r.rate / ref.rate, 0
    return statistics.median(mine[p] / theirs[p] for p in common), len(common)


def find(results: list[Result], group: str, key: str) -> Result | None:
    for r in results:
        if r.group == group and r.key == key:
            return r
    return None


def _per_job(r: Result, name: str) -> str:
    values = r.extra.get(name)
    return f"{statistics.median(values) * 1e6 / r.jobs:,.0f}" if values else "-"


def _group_table(results: list[Result], group: str) -> str:
    rows = []
    for r in results:
        if r.group != group:
            continue
        ref = find(results, group, r.reference) if r.reference else r
        others = r.extra.get("others_cores")
        if ref is r or ref is None:
            ratio = "reference" if ref is r else "-"
        else:
            value, npasses = paired_ratio(r, ref)
            ratio = f"{value:.2f}" + (f" ({npasses} passes)" if npasses > 1 else "")
        rows.append([r.what, str(r.rounds), f"{r.jobs:,}", f"{r.median * 1000:,.1f} ms",
                     f"{min(r.data) * 1000:,.1f}-{max(r.data) * 1000:,.1f} ms",
                     f"{r.rate:,.0f}", ratio,
                     f"{1e6 / r.rate:,.1f}", _per_job(r, "client_cpu"),
                     _per_job(r, "server_cpu"),
                     f"{statistics.median(others):.2f}" if others else "-"])
    return table(["what", "rounds", "jobs per round", "median round", "min-max round",
                  "jobs/s", "ratio to reference", "µs per job", "client CPU µs/job",
                  "server CPU µs/job", "others' CPU (cores)"], rows)


def targets(results: list[Result], rss: list[dict] | None) -> list[list[str]]:
    out = []
    for what, g, k, rg, rk, minimum, ceiling_key in TARGETS:
        r, ref = find(results, g, k), find(results, rg, rk)
        if r is None or ref is None:
            out.append([what, "not measured", "-", "-"])
            continue
        ratio, npasses = paired_ratio(r, ref)
        ceiling = find(results, g, ceiling_key) if ceiling_key else None
        out.append([what, f"{ratio:.2f} (medians {r.rate:,.0f} / {ref.rate:,.0f} jobs/s"
                    + (f"; paired over {npasses} passes)" if npasses > 1 else ")"),
                    f"(e)/({rk}) = {paired_ratio(ceiling, ref)[0]:.2f}" if ceiling else "-",
                    verdict(ratio >= minimum)])
    growth = rss_growth(rss)
    if growth is None:
        out.append([f"RSS growth 10,000 -> 1,000,000 jobs < {RSS_GROWTH_LIMIT_MB:g} MB",
                    "not measured", "-", "-"])
    else:
        first, last, mb = growth
        out.append([f"RSS growth {first['jobs']:,} -> {last['jobs']:,} jobs < "
                    f"{RSS_GROWTH_LIMIT_MB:g} MB",
                    f"{first['rss_kb'] / 1024:.1f} MB -> {last['rss_kb'] / 1024:.1f} MB: "
                    f"{mb:+.2f} MB", "-", verdict(mb < RSS_GROWTH_LIMIT_MB)])
    return out


def rss_growth(rss: list[dict] | None):
    """(sample at 10,000 jobs (or the first after 0), last sample, growth in MB)"""
    if not rss:
        return None
    samples = [s for s in rss if s["jobs"] > 0]
    if len(samples) < 2:
        return None
    first = next((s for s in samples if s["jobs"] == 10_000), samples[0])
    last = samples[-1]
    return first, last, (last["rss_kb"] - first["rss_kb"]) / 1024


def render(results: list[Result], rss: list[dict] | None, header: dict) -> str:
    lines = ["# q4m_fast library benchmarks", "",
             f"{header.get('server', 'MariaDB')} with our QUEUE engine: one private server, "
             f"one pytest-benchmark run (`make bench`); {machine()}.",
             f"q4m_fast {header.get('version', '?')}; job loops measured: "
             f"{header.get('impls', '?')}. Every round works off a queue filled beforehand "
             "(untimed) with exactly the round's jobs, rows `(id INT, v VARCHAR(64))`; each "
             "connection's last `queue_end()` is inside the round. Comparisons run in passes "
             "(every contestant of a table once per pass, one after the other); *jobs/s* is "
             "jobs per round over the median round of all passes, *ratio* the median over the "
             "passes of the row's jobs/s over the reference row's jobs/s **in the same pass** "
             "(paired, so that a neighbour's load that comes and goes hits both sides alike). "
             "CPU columns: CPU time per job of the benchmark process (the client: Python, or "
             "the C loop inside it) and of the server; *others' CPU*: cores used by every other "
             "process on this shared machine meanwhile (median of the rounds; high values mark "
             "disturbed rows).",
             f"Total {header.get('seconds', 0):.0f} s.", "",
             "Contestants: (a) q4m_fast `Job.work()`, Cython loop (`Q4M_FAST_IMPL=c`); "
             "(b) the same, pure-Python loop (`Q4M_FAST_IMPL=python`); (c) the Ruby gem's "
             "pattern plainly on MySQLdb: `SELECT queue_wait('t', 1)`, `SELECT * FROM t`, "
             "`SELECT queue_end()` (3 round trips per job); (d) the same on PyMySQL; "
             "(e) a C loop on libmariadb (benchmarks/c/refloop.c) doing (a)'s one round trip "
             "`SELECT queue_wait('t', 1); SELECT * FROM `t` LIMIT 1` with no Python at all.", ""]
    for group, (title, reference) in GROUPS.items():
        if any(r.group == group for r in results):
            lines += [f"## {title}", "", f"Reference: {reference}.", "",
                      _group_table(results, group), ""]
    if rss:
        lines += ["## Worker memory (one no-op worker process, Cython loop, syncing off)", "",
                  "VmRSS of the worker process after that many jobs (VmHWM: its peak).", ""]
        base = rss_growth(rss)
        rows = []
        for s in rss:
            growth = ("" if base is None or s["jobs"] < base[0]["jobs"]
                      else f"{(s['rss_kb'] - base[0]['rss_kb']) / 1024:+.2f} MB")
            rows.append([f"{s['jobs']:,}", f"{s['rss_kb'] / 1024:.1f} MB",
                         f"{s['hwm_kb'] / 1024:.1f} MB", growth, f"{s['seconds']:.1f} s"])
        lines += [table(["jobs done", "RSS", "peak RSS", "growth since 10,000 jobs",
                         "elapsed"], rows), ""]
    lines += ["## Targets", "",
              "*Ceiling*: the same ratio with the C loop (e) in place of (a), i.e. what a client "
              "without any overhead reaches against the same reference on the same server in "
              "the same run. A target above its ceiling cannot be met by any client-side work.",
              "", table(["target", "measured ratio (same run)", "ceiling", "verdict"],
                        targets(results, rss)), ""]
    if header.get("notes"):
        lines += ["## Notes", "", *header["notes"], ""]
    return "\n".join(lines)


def raw(results: list[Result], rss: list[dict] | None, header: dict) -> dict:
    """Everything measured, round by round (for latest.json)."""
    return {"header": {k: v for k, v in header.items() if k != "notes"},
            "results": [{"group": r.group, "key": r.key, "what": r.what, "jobs": r.jobs,
                         "seconds": r.data, "passes": r.passes, **r.extra} for r in results],
            "rss": rss or []}


def plot(results: list[Result], path: Path) -> bool:
    """jobs/s against threads for both job kinds, with the ideal line of the blocking job."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(7, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ticks: set[int] = set()
    for group, label, style in (("threads-sleep", "1 ms blocking in C (time.sleep)", "o-"),
                                ("threads-python", "1 ms pure-Python work (GIL held)", "s-")):
        rs = sorted((r for r in results if r.group == group), key=lambda r: int(r.key))
        if not rs:
            continue
        xs = [int(r.key) for r in rs]
        ticks.update(xs)
        ax.plot(xs, [r.rate for r in rs], style, label=label)
        if group == "threads-sleep":
            ax.plot(xs, [rs[0].rate * x for x in xs], ":", color="grey",
                    label="blocking job, linear from 1 thread")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(ticks), [str(t) for t in sorted(ticks)])
    ax.set_yscale("log")
    ax.set_xlabel("threads (one connection each)")
    ax.set_ylabel("jobs/s")
    ax.set_title("q4m_fast Job.work(), Cython loop: jobs/s against threads")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return True
