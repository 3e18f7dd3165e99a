"""The benchmarks run end to end at small sizes (`python -m bench --quick`): every program
starts its processes, drives the emulator, prints its figures, and the broadcast reaches each
recipient exactly once. Times are printed, never asserted (targets live in the README)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = [
    "updates: bot updates/s (closed loop)",
    "updates: echo bot updates/s (closed loop)",
    "updates: bot ÷ echo updates/s",
    "updates: bot p95 ms at 100 updates/s (steady arrivals)",
    "updates: bot p95 ms at 100 updates/s, all users at once (wave)",
    "updates: unanswered updates",
    "pacing: achieved ÷ configured at 30/s",
    "pacing: achieved ÷ configured at 300/s",
    "pacing: 429s, % of sends",
    "pacing: recipients served twice",
    "pacing: recipients not served",
    "planning: 900 users, seconds",
    "planning: 900 users, peak RSS MB",
    "planning: cost per user 900 ÷ 300",
    "planning: 900 users with 2 workers, seconds",
    "planning: 2 workers ÷ single process, 900 users",
    "planning: with workers, cost per user 900 ÷ 300",
    "start-up: bot ÷ echo",
    "start-up: bot − echo idle RSS MB",
    "start-up: bot RSS MB after planning 300 users",
    "start-up: a planner worker's peak RSS MB",
    "start-up: bot + planner workers peak RSS MB",
    "busy (workers): p95 ms at 100 updates/s during a 300-user tick",
    "busy (workers): p95 during the tick ÷ idle",
    "busy (broadcast): p95 ms at 100 updates/s during a 300/s broadcast",
    "busy (broadcast): p95 during the broadcast ÷ idle",
    "busy (broadcast): sends/s during the load ÷ configured",
]


def _value(output: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)}\s+(-?[\d.]+)\s", output, re.MULTILINE)
    assert match, f"no figure {name!r} in:\n{output[-3000:]}"
    return float(match.group(1))


def test_the_benchmarks_run_and_print_their_figures() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    output = done.stdout
    assert done.returncode == 0, f"{output[-3000:]}\n{done.stderr[-3000:]}"
    summary = output[output.index("== summary") :]
    values = {name: _value(summary, name) for name in FIGURES}
    assert values["pacing: recipients served twice"] == 0
    assert values["pacing: recipients not served"] == 0
    assert values["updates: unanswered updates"] == 0
    assert values["updates: bot updates/s (closed loop)"] > 0
    assert values["updates: echo bot updates/s (closed loop)"] > 0
    assert values["planning: 900 users, peak RSS MB"] > 0
    # Every benchmark printed its own table before the summary.
    for heading in ("== updates", "== pacing", "== planning", "== startup", "== busy"):
        assert heading in output
    assert re.search(r"^\d+ PASS, \d+ MISS$", output, re.MULTILINE)
