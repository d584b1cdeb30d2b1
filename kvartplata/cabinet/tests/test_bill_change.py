"""«Почему изменилась сумма?» on the charges page and the account card (issue #19)."""

from django.urls import reverse
from django.utils.html import escape

from kvartplata.billing.bill_change import explanation
from kvartplata.billing.calc.difference import Cause

# The charges page and the account card with the explanation, whatever the history's length:
# the bound of every resident page (test_queries.py).
from kvartplata.cabinet.tests.test_queries import MAX_QUERIES
from kvartplata.registry.models import Period
from kvartplata.statements import selectors


def _explained(world, period=None):
    periods = selectors.organization_periods(world.organization.id)
    period = period or selectors.last_issued_of(periods)
    return explanation(world.resident_account.id, periods, period)


def _page(client, world, name, **params):
    return client.get(reverse(name, args=[world.resident_account.id]), params)


def _assert_explained(html, change):
    assert 'data-testid="bill-change"' in html
    assert escape(change.headline) in html
    for service in change.services:
        assert escape(service.name) in html
        assert service.signed in html
        for sentence in service.sentences:
            assert escape(sentence) in html


def test_it_explains_the_last_issued_month_on_the_charges_page(demo_client, world):
    change = _explained(world)
    assert change.services, "the demo resident's bill changed in October"
    # Every service's causes add up to its change, and all of them to the change of the total due.
    assert sum(s.amount for s in change.services) == change.change
    html = _page(demo_client, world, "cabinet:charges").content.decode()
    _assert_explained(html, change)
    assert "квитанция за октябрь 2026 по сравнению с квитанцией за сентябрь 2026" in html


def test_it_explains_the_chosen_month_against_the_issued_month_before(demo_client, world):
    september = Period.objects.get(organization=world.organization, month__month=9)
    change = _explained(world, september)
    assert change.previous_month.month == 8
    html = _page(demo_client, world, "cabinet:charges", month="2026-09").content.decode()
    _assert_explained(html, change)


def test_it_explains_the_last_issued_month_on_the_account_card(demo_client, world):
    change = _explained(world)
    html = _page(demo_client, world, "cabinet:account").content.decode()
    _assert_explained(html, change)


def test_it_unfolds_all_but_the_three_largest_changes(demo_client, world):
    change = _explained(world)
    html = _page(demo_client, world, "cabinet:charges").content.decode()
    block = html[html.index('data-testid="bill-change"') :]
    block = block[: block.index("</section>")]
    amounts = [abs(s.amount) for s in change.services]
    assert amounts == sorted(amounts, reverse=True)
    if len(change.services) > 3:
        folded = block[block.index("<details") :]
        assert escape(change.services[3].name) in folded
        assert escape(change.services[0].name) not in folded


def test_it_links_the_meters_page_when_the_method_is_the_cause(demo_client, world):
    change = _explained(world)
    causes = {p.cause for p in change.difference.parts}
    assert Cause.METHOD in causes, "the demo resident's October: readings after an estimate"
    html = _page(demo_client, world, "cabinet:charges").content.decode()
    meters = reverse("cabinet:meters:meter_list", args=[world.resident_account.id])
    block = html[html.index('data-testid="bill-change"') :]
    assert f'href="{meters}"' in block[: block.index("</section>")]


def test_it_explains_nothing_for_a_month_not_issued(demo_client, world):
    html = _page(demo_client, world, "cabinet:charges", month="2026-11").content.decode()
    assert 'data-testid="bill-change"' not in html


def test_it_explains_nothing_for_the_first_issued_month(demo_client, world):
    periods = selectors.organization_periods(world.organization.id)
    first = selectors.issued_of(periods)[0]
    assert explanation(world.resident_account.id, periods, first) is None
    html = _page(demo_client, world, "cabinet:charges", month=f"{first.month:%Y-%m}")
    assert 'data-testid="bill-change"' not in html.content.decode()


def test_it_gives_an_outsider_404(client, world, outsider):
    client.force_login(outsider)
    for name in ("cabinet:account", "cabinet:charges"):
        assert _page(client, world, name).status_code == 404


def test_it_keeps_the_pages_queries_bounded(demo_client, world, django_assert_max_num_queries):
    for name in ("cabinet:account", "cabinet:charges"):
        with django_assert_max_num_queries(MAX_QUERIES):
            response = _page(demo_client, world, name)
        assert response.status_code == 200
