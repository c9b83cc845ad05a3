"""limit/offset on every list: bad values are a 400 naming the field, never silently clamped."""

import pytest

from tests.api.helpers import assert_error, assert_page

API_KEY_LISTS = ["/agents", "/tasks", "/calls"]
BAD_VALUES = [("limit", "0"), ("limit", "101"), ("limit", "-1"), ("limit", "abc"), ("limit", ""), ("limit", "1.5"),
              ("offset", "-1"), ("offset", "abc"), ("offset", "")]  # fmt: skip


@pytest.mark.parametrize("path", API_KEY_LISTS)
@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_bad_limit_or_offset_is_a_400_naming_the_field(tenant, path, field, value):
    error, details = assert_error(tenant.api.get(f"{path}?{field}={value}"), 400)
    assert error == "Validation failed"
    assert list(details) == [field]


def test_api_key_list_refuses_bad_paging_too(client, tenant, logged_in):
    for field, value in BAD_VALUES:
        _, details = assert_error(client.get(f"/api/v1/api-keys?{field}={value}"), 400)
        assert list(details) == [field], (field, value)


@pytest.mark.parametrize("path", API_KEY_LISTS)
def test_limits_at_the_bounds_are_accepted(tenant, path):
    assert_page(tenant.api.get(f"{path}?limit=1"), total=0, limit=1, offset=0, has_more=False)
    assert_page(tenant.api.get(f"{path}?limit=100&offset=0"), total=0, limit=100, offset=0, has_more=False)


def test_repeated_and_unknown_query_parameters_are_refused(tenant):
    _, details = assert_error(tenant.api.get("/agents?limit=5&limit=10"), 400)
    assert details == {"limit": "repeated"}
    _, details = assert_error(tenant.api.get("/agents?page=2"), 400)
    assert details == {"page": "is not a known field"}
