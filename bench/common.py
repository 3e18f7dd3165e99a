"""Small helpers the benchmarks share: figures with targets, a text table, RSS, percentiles."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured number with its target; `passed` None: shown for information only."""

    name: str
    value: float
    target: str
    passed: bool | None

    def row(self) -> list[str]:
        verdict = "" if self.passed is None else ("PASS" if self.passed else "MISS")
        return [self.name, _number(self.value), self.target, verdict]


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 100:
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _status_mb(pid: int | None, field: str) -> float:
    """A `kB` line of /proc/<pid>/status (default: this process) in MB."""
    with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process (default: this one) in MB."""
    return _status_mb(pid, "VmRSS:")


def peak_rss_mb(pid: int | None = None) -> float:
    """The highest RSS a process has had so far (VmHWM), in MB."""
    return _status_mb(pid, "VmHWM:")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load_average() -> float:
    return os.getloadavg()[0]
