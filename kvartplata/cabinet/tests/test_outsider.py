"""The outsider walk: every URL of the cabinet that carries an id answers 404 to anybody else."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kvartplata.meters.models import Meter
from kvartplata.receipts.models import Receipt


def _patterns(resolver, prefix, converters):
    for entry in resolver.url_patterns:
        found = dict(converters)
        found.update(getattr(entry.pattern, "converters", {}))
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _patterns(entry, namespace, found)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", sorted(found)


def cabinet_patterns():
    _prefix, resolver = get_resolver().namespace_dict["cabinet"]
    return list(_patterns(resolver, "cabinet:", {}))


def test_it_knows_the_cabinet_pages():
    names = {name for name, _kwargs in cabinet_patterns()}
    assert {
        "cabinet:account",
        "cabinet:charges",
        "cabinet:payments",
        "cabinet:services",
        "cabinet:charts",
        "cabinet:chart_charges",
        "cabinet:chart_consumption",
        "cabinet:meters:meter_list",
    } <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_404_for_every_url_with_somebody_elses_ids(demo_client, world, outsider, method):
    foreign = world.spare_account  # linked to the outsider, not to the demo resident
    meter = Meter.objects.filter(account=foreign).first()
    receipt = Receipt.objects.filter(account=foreign).first()
    values = {
        "account_id": foreign.id,
        "meter_id": meter.id,
        "receipt_id": receipt.id if receipt else 10**9,
        "unit": "m3",
    }
    allowed = {404} if method == "get" else {404, 405}
    walked = 0
    for name, kwargs in cabinet_patterns():
        if not kwargs:
            continue
        unknown = set(kwargs) - set(values)
        assert not unknown, f"{name}: add a foreign value for {unknown}"
        variants = [{k: values[k] for k in kwargs}]
        if len(kwargs) > 1 and set(kwargs) - {"account_id", "unit"}:
            # The resident's own account with somebody else's meter or receipt.
            variants.append({**variants[0], "account_id": world.resident_account.id})
        for filled in variants:
            url = reverse(name, kwargs=filled)
            response = getattr(demo_client, method)(url)
            assert response.status_code in allowed, (url, response.status_code)
            walked += 1
    assert walked >= 10


def test_it_answers_404_for_a_missing_account(demo_client, world):
    response = demo_client.get(reverse("cabinet:account", args=[10**9]))
    assert response.status_code == 404


def test_it_lets_the_owner_in(client, world, outsider):
    client.force_login(outsider)
    response = client.get(reverse("cabinet:account", args=[world.spare_account.id]))
    assert response.status_code == 200
