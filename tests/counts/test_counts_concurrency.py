"""Threads changing the same rows at once (stale reads, first inserts, bulk skips, deletes) lose or
double no count: the counters equal COUNT(*) of the rows afterwards."""

import random
import threading

import sqlalchemy as sa

from tests.counts.helpers import assert_counters_exact

THREADS = 6
ROUNDS = 40
TASKS = 12


def _numbers(count: int) -> list[str]:
    return [f"+1212555{2000 + index:04d}" for index in range(count)]


def test_concurrent_status_changes_keep_counts_exact(app, tenant, make_tenant, db):
    from webapp.models import TASK_STATUSES, Task
    from webapp.services import dnc

    agent_id = tenant.agent()["id"]
    numbers = _numbers(TASKS)
    task_ids = [tenant.task(agent_id, to_number=number)["id"] for number in numbers]
    fresh = make_tenant()  # no counter rows yet: the threads' first inserts race on them
    fresh_agent = fresh.agent()["id"]
    start = threading.Barrier(THREADS)
    committed, refused, failures = [], [], []

    def change(seed: int) -> None:
        rng = random.Random(seed)
        with app.app_context():
            try:
                start.wait()
                for round_number in range(ROUNDS):
                    try:
                        _one_change(rng, round_number)
                        committed.append(1)
                    except (sa.exc.OperationalError, sa.orm.exc.StaleDataError, sa.exc.IntegrityError):
                        db.session.rollback()  # SQLite busy, or a row another thread just deleted
                        refused.append(1)
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(repr(exc))
            finally:
                db.session.remove()

    def _one_change(rng: random.Random, round_number: int) -> None:
        if round_number == 0:
            db.session.add(Task(organization_id=fresh.org_id, agent_id=fresh_agent, name="first", to_number=numbers[0],
                                status=rng.choice(TASK_STATUSES)))  # fmt: skip
        else:
            action = rng.random()
            task = db.session.get(Task, rng.choice(task_ids))
            if action < 0.1:
                dnc.skip_pending_tasks(tenant.org_id, rng.choice(numbers))  # a bulk UPDATE
            elif action < 0.2 and task is not None:
                db.session.delete(task)
                replacement = Task(organization_id=tenant.org_id, agent_id=agent_id, name="replacement",
                                   to_number=task.to_number, status="pending")  # fmt: skip
                db.session.add(replacement)
                db.session.flush()
                task_ids.append(replacement.id)
            elif task is not None:
                task.status = rng.choice(TASK_STATUSES)  # over whatever another thread wrote meanwhile
        db.session.commit()

    threads = [threading.Thread(target=change, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert len(committed) > THREADS * ROUNDS // 2, (len(committed), len(refused))
    counts = assert_counters_exact(db, tenant.org_id, fresh.org_id)
    assert sum(n for (org, resource, _), n in counts.items() if org == fresh.org_id and resource == "tasks") >= 1
