"""Runs wrk against a URL and returns its figures (requests/s, latency percentiles in ms, errors)."""

import json
import shutil
import subprocess
from pathlib import Path

REPORTER = Path(__file__).resolve().parent / "wrk_report.lua"


def available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, *, connections: int, seconds: float, threads: int = 2, headers: dict | None = None) -> dict:
    argv = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(REPORTER),
    ]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    completed = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    line = next(line for line in completed.stdout.splitlines() if line.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    latency = {name: round(value / 1000, 2) for name, value in raw["latency_us"].items()}
    return {
        "connections": connections,
        "seconds": round(seconds_run, 2),
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / seconds_run, 1),
        "latency_ms": latency,
        "errors": raw["errors"],
        "bytes_per_response": raw["bytes"] // max(1, raw["requests"]),
    }
