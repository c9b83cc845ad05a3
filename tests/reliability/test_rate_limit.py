"""The per-key rate limit holds under concurrency: client processes hammering one key against two
gunicorn processes (sharing the limit through Redis) get exactly the allowed number of answers."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from tests.reliability.stack import hammer

CLIENTS = 4
REQUESTS_PER_CLIENT = 20
LIMIT = 30


def test_the_rate_limit_holds_across_client_and_server_processes(make_stack):
    stack = make_stack(RATE_LIMIT=f"{LIMIT} per minute")
    url = f"{stack.serve(processes=2)}/api/v1/agents"
    key, other_key = stack.create_tenant(), stack.create_tenant()
    with ProcessPoolExecutor(CLIENTS, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = [pool.submit(hammer, url, key, REQUESTS_PER_CLIENT) for _ in range(CLIENTS)]
        answers = [answer for run in runs for answer in run.result()]

    statuses = [status for status, _, _ in answers]
    assert len(answers) == CLIENTS * REQUESTS_PER_CLIENT
    assert statuses.count(200) == LIMIT and statuses.count(429) == len(answers) - LIMIT, statuses
    for status, headers, body in answers:
        assert headers["X-RateLimit-Limit"] == str(LIMIT)
        if status == 429:
            assert body["success"] is False and body["error"] == "Rate limit exceeded", body
            assert headers["X-RateLimit-Remaining"] == "0" and int(headers["Retry-After"]) > 0
    assert hammer(url, other_key, 1)[0][0] == 200  # the limit is per key
