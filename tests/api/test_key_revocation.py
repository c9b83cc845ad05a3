"""API keys are cached in each web process, and revocation stays instant: once a revoke or a
regeneration has returned (here: done by a third process, this test's app), both web processes
refuse the old secret on the very next request, although each had it cached."""

import requests
import sqlalchemy as sa

from tests.support import scaled, wait_until


def _status(url: str, key: str) -> int:
    response = requests.get(f"{url}/api/v1/agents", headers={"Authorization": f"Bearer {key}"}, timeout=scaled(30))
    return response.status_code


def _set_revoked_behind_the_caches(key_id: str, revoked: bool) -> None:
    """Write the row with plain SQL: no invalidation is published, as if the caches did not exist."""
    from webapp.extensions import db
    from webapp.models import ApiKey, utcnow

    with db.engine.begin() as connection:
        connection.execute(
            sa.update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow() if revoked else None)
        )


def _cached_in(url: str, key: str, key_id: str) -> bool:
    """Whether `url` answers `key` from its cache: it still accepts the key once the row says revoked."""
    _set_revoked_behind_the_caches(key_id, False)
    assert _status(url, key) == 200
    _set_revoked_behind_the_caches(key_id, True)
    return _status(url, key) == 200


def _cache_everywhere(urls: list[str], key: str, key_id: str) -> None:
    for url in urls:  # a process caches once its subscription to invalidations is up
        wait_until(lambda url=url: _cached_in(url, key, key_id), message=f"{url} to cache the key")
    _set_revoked_behind_the_caches(key_id, False)
    assert [_status(url, key) for url in urls] == [200, 200]


def _key_id(org_id: str) -> str:
    from webapp.services import keys

    return keys.list_keys(org_id)[0][0].id


def test_a_revoked_key_is_refused_by_every_process_at_once(two_web_processes, tenant):
    from webapp.services import keys

    key_id = _key_id(tenant.org_id)
    _cache_everywhere(two_web_processes, tenant.key, key_id)

    keys.revoke_key(tenant.org_id, key_id)
    assert [_status(url, tenant.key) for url in two_web_processes] == [401, 401]


def test_a_regenerated_key_refuses_the_old_secret_everywhere_at_once(two_web_processes, tenant):
    from webapp.services import keys

    key_id = _key_id(tenant.org_id)
    _cache_everywhere(two_web_processes, tenant.key, key_id)

    _, new_secret = keys.regenerate_key(tenant.org_id, key_id)
    assert [_status(url, tenant.key) for url in two_web_processes] == [401, 401]
    assert [_status(url, new_secret) for url in two_web_processes] == [200, 200]
