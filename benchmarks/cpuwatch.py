"""Where the CPU went during a measurement: this process (and the children it waited for, such as
the C client), the private server, and everyone else on the machine.

The machine is shared (other engineers' test suites start servers of their own), so every result
carries how many cores *other* processes used while it was measured; a number measured next to a
busy neighbour says so in its row.
"""

from __future__ import annotations

import os
import resource
import time

_TICK = os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _machine_busy() -> float:
    """CPU-seconds all CPUs spent not idle (steal included: capacity someone else took)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / _TICK


def process_cpu(pid: int) -> float:
    """User + system CPU-seconds of process `pid` (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class CpuWatch:
    """with CpuWatch(server_pid) as w: ...; then w.wall, w.client, w.server, w.others (CPU-seconds;
    others_cores = others / wall)."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def __enter__(self) -> CpuWatch:
        self._t = time.perf_counter()
        self._own = _own_cpu()
        self._server = process_cpu(self.server_pid) if self.server_pid else 0.0
        self._busy = _machine_busy()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._t
        self.client = _own_cpu() - self._own
        self.server = (process_cpu(self.server_pid) - self._server) if self.server_pid else 0.0
        busy = _machine_busy() - self._busy
        self.others = max(0.0, busy - self.client - self.server)

    @property
    def others_cores(self) -> float:
        return self.others / self.wall if self.wall > 0 else 0.0
