"""Runs the benchmarks and writes bench/results/<name>.json: `python -m bench.run_all [--smoke]`."""

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from . import api_bench, bridge_bench, campaign_bench, engine_bench, fanout_bench, webhook_bench, wrk
from .env import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, BenchEnv, machine
from .load import LoadWatch, judge

BENCHMARKS = {"api": api_bench, "engine": engine_bench, "fanout": fanout_bench, "webhooks": webhook_bench,
              "bridge": bridge_bench, "campaign": campaign_bench}  # fmt: skip
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (~30 s): checks the scripts still work")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {list(BENCHMARKS)}")
    parser.add_argument("--results-dir", type=Path, help="default bench/results (bench/results/smoke with --smoke)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and re-created per benchmark")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a Redis db of its own: it is flushed")
    parser.add_argument("--engine-levels", help="comma-separated levels for the engine benchmark (e.g. 250)")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the process logs")
    return parser.parse_args(argv)


def _levels(text: str) -> tuple[int, ...]:
    return tuple(int(level) for level in text.split(",") if level.strip())


def main(argv=None) -> int:
    # The servers and workers a benchmark starts run in sessions of their own (so a signal to them
    # reaches their children): a SIGTERM must unwind through each benchmark's clean-up to stop them.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args = parse_args(argv)
    selected = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(selected) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmarks: {sorted(unknown)}", file=sys.stderr)
        return 2
    if "api" in selected and not wrk.available():
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    results_dir = args.results_dir or (RESULTS_DIR / "smoke" if args.smoke else RESULTS_DIR)
    results_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="va-bench-"))
    env = BenchEnv(args.database_url, args.redis_url, workdir)
    about = {"mode": "smoke" if args.smoke else "full", "machine": machine(env)}
    try:
        for name in selected:
            started = time.monotonic()
            print(f"== {name}", flush=True)
            watch = LoadWatch(env.database_url, env.redis_url).start()
            options = {"levels": _levels(args.engine_levels)} if name == "engine" and args.engine_levels else {}
            results = BENCHMARKS[name].run(env, smoke=args.smoke, **options)
            run_load = watch.stop()
            for result_name, result in results:
                judge(result, run_load)
                result.update(about, taken_at=datetime.now(UTC).isoformat(timespec="seconds"))
                (results_dir / f"{result_name}.json").write_text(json.dumps(result, indent=2) + "\n")
                print(f"   {result_name}: met {result['met']}  ->  {results_dir / (result_name + '.json')}")
                if "starved" in result:
                    print(f"   {result_name}: {result['starved']}")
            print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        env.drop()
        if args.keep_workdir:
            print(f"process logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
