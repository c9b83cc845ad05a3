"""The RQ worker: `python worker.py [--processes N]`.

Each process runs one non-forking RQ worker inside an app context (with RQ's scheduler for
retries and scheduled jobs) plus a clock thread that enqueues the periodic jobs: syncing active
calls, starting due tasks and the sweeps that re-dispatch stranded work. A Redis lock makes each tick run once across
all worker processes. A second thread syncs each call the moment its provider says it changes
(services.change_clock), for providers that know when (the simulator).
"""

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

import redis
from rq import SimpleWorker
from rq.exceptions import StopRequested

import webapp.jobs  # noqa: F401 - registers every job, the periodic ones included
from webapp import create_app
from webapp.config import ConfigError, load_settings
from webapp.extensions import db
from webapp.queues import (
    QUEUE_NAMES,
    claim_periodic_slot,
    enqueue,
    job_started,
    periodic_jobs,
    queue,
    redis_client,
    release_periodic_slot,
    spec_for,
)
from webapp.services import change_clock, engine

log = logging.getLogger("worker")

RESTART_DELAY_SECONDS = 1.0
CHANGE_CLOCK_IDLE_WAIT = 0.05  # longest wait between looks at the change schedule
# Jobs are throughput work; a change-clock pass is what the live transcripts wait for. A job does
# not start while a pass runs (it waits at most this long, so a busy clock never starves the jobs).
JOB_WAITS_FOR_PASS_AT_MOST = 0.1
# The GIL passes between threads every 5 ms by default: each time the change clock comes back from
# a round trip while a job computes, it would wait that long. 1 ms bounds a pass's share of it.
SWITCH_INTERVAL_SECONDS = 0.001

_no_pass_running = threading.Event()
_no_pass_running.set()


class AppWorker(SimpleWorker):
    """Runs jobs in this process and hands back the database session after each one."""

    stop_signalled = False  # SIGTERM/SIGINT, as opposed to RQ giving up on an error

    def request_stop(self, signum, frame):
        self.stop_signalled = True
        super().request_stop(signum, frame)

    def perform_job(self, job, queue):
        try:
            spec = spec_for(job.func_name)
        except LookupError:
            spec = None
        if spec is not None and spec.every:
            release_periodic_slot(spec.name)  # the next tick may queue it again
        elif spec is not None:
            job_started(spec.name, job.args)
        _no_pass_running.wait(JOB_WAITS_FOR_PASS_AT_MOST)
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()


def _tick(app, stop: threading.Event) -> None:
    """Enqueue each periodic job at its interval, at most once per interval across processes. A
    slot this process claimed is not free again before its interval: no look at it until then."""
    next_look = {spec.name: 0.0 for spec in periodic_jobs()}
    with app.app_context():
        while not stop.is_set():
            for spec in periodic_jobs():
                if time.monotonic() < next_look[spec.name]:
                    continue
                interval = app.config[spec.every]
                try:
                    if claim_periodic_slot(spec.name, interval):
                        enqueue(spec.func)
                        next_look[spec.name] = time.monotonic() + interval
                except Exception as exc:  # Redis down: keep ticking, the worker itself reconnects
                    log.warning("clock could not enqueue %s: %s", spec.name, exc)
            stop.wait(0.1)


def _change_clock(app, stop: threading.Event) -> None:
    """Syncs each call the moment its provider says it changes (providers with the
    knows_next_change capability; for the others this thread ends at once and polling does it)."""
    with app.app_context():
        if not change_clock.enabled():
            return
        while not stop.is_set():
            started = time.monotonic()
            wait = CHANGE_CLOCK_IDLE_WAIT
            try:
                _no_pass_running.clear()
                synced, next_in = engine.sync_due_calls()
                if synced >= change_clock.BATCH:
                    continue  # more may be due already
                elapsed = time.monotonic() - started
                wait = min(max((wait if next_in is None else next_in) - elapsed, 0.0), wait)
                if synced:  # what comes due meanwhile waits for the next pass: one transaction for all
                    wait = max(wait, change_clock.PASS_SECONDS - elapsed)
            except redis.RedisError as exc:
                log.warning("change clock lost Redis (%s); the polling pass covers meanwhile", exc)
                wait = RESTART_DELAY_SECONDS
            except Exception:
                log.exception("change clock: a sync failed; its calls come due again")
                wait = RESTART_DELAY_SECONDS
            finally:
                db.session.remove()
                _no_pass_running.set()
            stop.wait(wait)


def run_worker() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    app = create_app()
    stop = threading.Event()
    clock = threading.Thread(target=_tick, args=(app, stop), name="clock", daemon=True)
    clock.start()
    changes = threading.Thread(target=_change_clock, args=(app, stop), name="change-clock", daemon=True)
    changes.start()
    with app.app_context():
        queues = [queue(name) for name in QUEUE_NAMES]
        try:
            while not _work_until_signalled(queues):
                time.sleep(RESTART_DELAY_SECONDS)
        except StopRequested:
            pass  # the stop signal came between two runs
        finally:
            stop.set()


def _work_until_signalled(queues) -> bool:
    """One RQ worker run: True when a signal stopped it, False when it quit on an error. RQ quits
    on a lost Redis connection (leaving restarts to a supervisor); we start a fresh worker instead."""
    worker = AppWorker(queues, connection=redis_client())
    try:
        worker.work(with_scheduler=True, logging_level="WARNING")
    except redis.RedisError as exc:
        log.warning("worker lost Redis (%s)", exc)
    if not worker.stop_signalled:
        log.warning("worker stopped on an error; starting it again in %s s", RESTART_DELAY_SECONDS)
    return worker.stop_signalled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=1, help="worker processes to run (default 1)")
    args = parser.parse_args()
    try:
        load_settings()  # a bad variable stops the worker here, named, before any process starts
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    if args.processes <= 1:
        run_worker()
        return
    processes = [multiprocessing.Process(target=run_worker, name=f"worker-{i}") for i in range(args.processes)]
    for process in processes:
        process.start()

    def pass_on(signum, _frame):
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signum)

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    for process in processes:
        process.join()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
