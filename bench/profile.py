"""Sampling profiles of bench processes with py-spy (requirements-dev.txt), on request:
`BENCH_PROFILE_DIR=/tmp/prof python -m bench.run_all --only webhooks` attaches
`py-spy record --subprocesses --gil` to the worker during each measured phase (only threads
holding the GIL are sampled: Python's own CPU time, not waits on sockets) and writes <phase>.raw
(collapsed stacks) and <phase>.top.json (the functions with the most samples, own and
inclusive). py-spy pauses the process to sample it, so a profiled run is slower: take figures
from an unprofiled run."""

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

RATE = 250  # samples per second


def requested() -> Path | None:
    directory = os.environ.get("BENCH_PROFILE_DIR")
    return Path(directory) if directory else None


class Profiler:
    """py-spy attached to a running process and its subprocesses until stop(); then top() of it."""

    def __init__(self, pid: int, raw_path: Path):
        self.raw_path = raw_path
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        argv = [py_spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--format", "raw",
                "--rate", str(RATE), "--output", str(raw_path)]  # fmt: skip
        self.popen = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> dict | None:
        """py-spy writes its output on SIGINT (the Control-C it waits for)."""
        self.popen.send_signal(signal.SIGINT)
        try:
            self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        return summarize(self.raw_path)


def maybe_profile(pid: int, name: str) -> Profiler | None:
    directory = requested()
    return Profiler(pid, directory / f"{name}.raw") if directory else None


def _frame_name(frame: str) -> str:
    """'deliver (webapp/services/webhooks.py:150)' -> 'deliver (webapp/services/webhooks.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker, keep in (("site-packages/", ""), ("/webapp/", "webapp/"), ("/lib/python3.", "python3.")):
        if marker in path:
            path = keep + path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def top(raw_path: Path, count: int = 15) -> dict:
    """The functions holding the most samples: `own` (on top of the stack) and `inclusive`."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in raw_path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = [_frame_name(frame) for frame in stack.split(";") if " (" in frame]
        if not frames:
            continue
        weight = int(samples)
        total += weight
        own[frames[-1]] += weight
        for name in set(frames):
            inclusive[name] += weight

    def share(counter: Counter) -> list[list]:
        return [[name, round(100 * n / total, 1)] for name, n in counter.most_common(count)]

    return {"samples": total, "own_percent": share(own), "inclusive_percent": share(inclusive)}


def summarize(raw_path: Path) -> dict | None:
    if not raw_path.exists():
        return None
    summary = top(raw_path)
    raw_path.with_suffix(".top.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
