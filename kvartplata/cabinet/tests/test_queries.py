"""Every page makes the same bounded number of queries whatever the length of the history."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from kvartplata.users.models import AccountLink

PAGES = [
    ("cabinet:account", {}),
    ("cabinet:services", {}),
    ("cabinet:charges", {}),
    ("cabinet:charges", {"month": "2026-09"}),
    ("cabinet:payments", {}),
    ("cabinet:payments", {"from": "2025-01", "to": "2026-11"}),
    ("cabinet:charts", {}),
    ("cabinet:chart_charges", {}),
    ("cabinet:chart_consumption", {"unit": "m3"}),
]
# The charges page explains its lines from the meter states and recalculations (explain.py);
# the account card and the charges page say why the bill changed (bill_change.py: 5 queries);
# the page's ETag reads the account's meters too (cabinet/conditional.py).
MAX_QUERIES = 19


def _walk(client, world, django_assert_max_num_queries):
    user = get_user_model().objects.get(username="demo")
    AccountLink.objects.create(user=user, account=world.spare_account)  # the switcher shows
    client.force_login(user)
    account_id = world.resident_account.id
    for name, params in PAGES:
        params = dict(params)
        kwargs = {"account_id": account_id}
        if "unit" in params:
            kwargs["unit"] = params.pop("unit")
        url = reverse(name, kwargs=kwargs)
        with django_assert_max_num_queries(MAX_QUERIES):
            response = client.get(url, params)
        assert response.status_code == 200, url


@pytest.mark.parametrize("fixture", ["world", "world12"])
def test_it_bounds_queries_for_4_and_12_months(
    db, request, client, fixture, django_assert_max_num_queries
):
    world = request.getfixturevalue(fixture)
    _walk(client, world, django_assert_max_num_queries)
