"""The reliability suite: contract fuzzing, tenant isolation, faults (Redis, workers, webhooks, the
database), hostile input and security checks. Faults that would break shared infrastructure run on
an isolated deployment from `make_stack`; the rest use the session's app, live server and worker."""

import pytest

from tests.emulators import WebhookReceiver
from tests.reliability.stack import Stack


@pytest.fixture
def make_stack(backend, tmp_path):
    """`make_stack(**settings)`: an isolated deployment (database, Redis, processes), torn down after."""
    stacks = []

    def make(**settings) -> Stack:
        stack = Stack(backend, tmp_path / f"stack{len(stacks)}", **settings)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server
