"""The key cache's rules, on a cache of its own fed by hand the way the event subscriber feeds it
(the two-process behaviour is in test_key_revocation.py)."""

import pytest

from webapp.key_cache import KeyCache


@pytest.fixture
def key_cache(app):
    from webapp.queues import namespaced, redis_client

    generation_key = namespaced("test-key-cache:generation")
    redis_client().set(generation_key, 5)
    cache = KeyCache(60, generation_key)
    cache.subscribed(redis_client())
    yield cache
    redis_client().delete(generation_key)


def _remember(cache: KeyCache, key_hash: str, changes: int | None = None):
    return cache.remember(key_hash, "key-id", "org-id", None, cache.changes() if changes is None else changes)


def test_a_remembered_key_is_served_to_requests_that_saw_no_newer_invalidation(key_cache):
    _remember(key_cache, "h1")
    assert key_cache.lookup("h1", observed=5).organization_id == "org-id"
    assert key_cache.lookup("h1", observed=None) is None  # the request could not read the counter
    assert key_cache.lookup("h1", observed=6) is None  # an invalidation this process has not applied yet


def test_an_invalidation_drops_the_key_and_catches_the_cache_up(key_cache):
    _remember(key_cache, "h1")
    _remember(key_cache, "h2")
    key_cache.invalidated({"generation": 6, "api_key_hashes": ["h1"]})
    assert key_cache.lookup("h1", observed=6) is None
    assert key_cache.lookup("h2", observed=6) is not None


def test_a_database_read_older_than_an_applied_invalidation_is_not_cached(key_cache):
    changes = key_cache.changes()  # the request reads the row now...
    key_cache.invalidated({"generation": 6, "api_key_hashes": ["h1"]})  # ...the key is revoked meanwhile
    _remember(key_cache, "h1", changes)
    assert key_cache.lookup("h1", observed=6) is None


def test_without_a_subscription_nothing_is_cached_or_served(key_cache, app):
    from webapp.queues import redis_client

    _remember(key_cache, "h1")
    key_cache.lost()
    assert key_cache.lookup("h1", observed=5) is None
    _remember(key_cache, "h2")
    key_cache.subscribed(redis_client())  # subscribed again: starts empty
    assert key_cache.lookup("h2", observed=5) is None
    assert key_cache.lookup("h1", observed=5) is None
