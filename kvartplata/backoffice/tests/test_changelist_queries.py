"""Change lists make the same number of queries for 5 rows as for 50: nothing per row."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import grow_accounts
from .test_admin_pages import admin_url

MAX_QUERIES = 15
LISTS = [
    (model, model_admin)
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    )
    if model.__module__.startswith("kvartplata.") or model._meta.label == "admin.LogEntry"
]


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("model", "model_admin"), LISTS, ids=[m._meta.label for m, _ in LISTS])
@pytest.mark.parametrize("user_kind", ["staff", "superuser"])
def test_it_lists_without_per_row_queries(
    client, world, model, model_admin, user_kind, django_assert_max_num_queries
):
    client.force_login(world.a.staff if user_kind == "staff" else world.superuser)
    url = admin_url(model, "changelist")

    grow_accounts(world.a, 4)
    with django_assert_max_num_queries(MAX_QUERIES):
        few = count_queries(client, url)

    grow_accounts(world.a, 45)
    with django_assert_max_num_queries(MAX_QUERIES):
        many = count_queries(client, url)

    assert many == few


@pytest.mark.parametrize(
    "query", ["?q=1000000001", "?q=Иванов", "?q=Ромашка+1", "?state=empty", "?state=filled"]
)
def test_it_searches_and_filters_accounts(client, world, query):
    from kvartplata.registry.models import PersonalAccount

    client.force_login(world.a.staff)
    response = client.get(admin_url(PersonalAccount, "changelist") + query)
    assert response.status_code == 200
    numbers = [a.number for a in response.context["cl"].result_list]
    if query == "?state=filled":
        assert numbers == []
    else:
        assert numbers == [world.a[PersonalAccount].number]


def test_it_caps_the_count_of_a_huge_list(world, monkeypatch):
    from kvartplata.backoffice.admin.mixins import CappedPaginator
    from kvartplata.billing.models import Charge

    grow_accounts(world.a, 5)
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    paginator = CappedPaginator(Charge.objects.order_by("pk"), 2)
    assert paginator.count == 4
    assert [c.pk for c in paginator.page(1)] == list(
        Charge.objects.order_by("pk").values_list("pk", flat=True)[:2]
    )
