"""The cached account pages: served from the cache, rebuilt at once when what they show changes."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from kvartplata.billing import ledger
from kvartplata.billing.models import Period
from kvartplata.billing.services import billing_run, period_close, recalculation_add
from kvartplata.cabinet.pagecache import CSRF_PLACEHOLDER, STAMP_KEY
from kvartplata.lib.money import format_rub
from kvartplata.users.models import AccountLink
from kvartplata.users.services import user_create

PAGES = ["cabinet:account", "cabinet:charges", "cabinet:payments"]
# Session, user, the access check with the account's fingerprint, the organization's periods.
CACHED_QUERIES = 4


def _url(world, name="cabinet:account"):
    return reverse(name, args=[world.resident_account.id])


def _balance(client, world) -> str:
    html = client.get(_url(world)).content.decode()
    return re.search(r'data-testid="balance">([^<]*)<', html)[1]


@pytest.mark.parametrize("name", PAGES)
def test_the_second_visit_is_served_from_the_cache(
    demo_client, world, name, django_assert_max_num_queries
):
    first = demo_client.get(_url(world, name))
    assert first.status_code == 200
    with django_assert_max_num_queries(CACHED_QUERIES):
        second = demo_client.get(_url(world, name))
    assert second.status_code == 200
    assert second.context is None  # nothing was rendered
    assert second["Cache-Control"] == first["Cache-Control"]
    assert "no-store" in second["Cache-Control"]
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert second.content.decode().count("<main") == 1


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_cache_can_be_turned_off(demo_client, world, settings):
    settings.CABINET_PAGE_CACHE_SECONDS = 0
    demo_client.get(_url(world))
    assert _queries(demo_client, _url(world)) > CACHED_QUERIES


def test_every_answer_carries_a_fresh_csrf_token_that_works(demo_user, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_user)
    tokens = []
    for _ in range(2):
        html = client.get(_url(world)).content.decode()
        assert CSRF_PLACEHOLDER not in html
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1])
    assert tokens[0] != tokens[1]  # masked anew on every answer, as Django does
    response = client.post(reverse("account_logout"), {"csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302


def test_a_family_member_gets_a_page_of_their_own(demo_client, world, client):
    demo_client.get(_url(world))
    relative = user_create(
        username="rodnya", email="rodnya@example.ru", password="Kvart-plata-2025"
    )
    AccountLink.objects.create(user=relative, account=world.resident_account)
    other = Client()
    other.force_login(relative)
    html = other.get(_url(world)).content.decode()
    assert "(rodnya)" in html
    assert "(demo)" not in html


def test_an_outsider_gets_404_for_a_cached_page(demo_client, world, outsider):
    for name in PAGES:
        assert demo_client.get(_url(world, name)).status_code == 200
        other = Client()
        other.force_login(outsider)
        assert other.get(_url(world, name)).status_code == 404


def test_unlinking_answers_404_at_once(demo_client, world, demo_user):
    assert demo_client.get(_url(world)).status_code == 200
    AccountLink.objects.filter(user=demo_user, account=world.resident_account).delete()
    for name in PAGES:
        assert demo_client.get(_url(world, name)).status_code == 404


def test_linking_another_account_shows_the_switcher(demo_client, world, demo_user):
    assert 'name="account"' not in demo_client.get(_url(world)).content.decode()
    AccountLink.objects.create(user=demo_user, account=world.spare_account)
    html = demo_client.get(_url(world)).content.decode()
    assert 'name="account"' in html
    assert world.spare_account.number in html


def _pay(world, amount: Decimal):
    period = Period.objects.get(organization=world.organization, state__in=["open", "billed"])
    ledger.post_payments(
        period,
        [
            {
                "id": None,
                "account_id": world.resident_account.id,
                "amount": amount,
                "paid_on": datetime.date(2026, 11, 25),
                "for_month": None,
            }
        ],
    )


def test_a_payment_posted_to_the_journal_shows_at_once(demo_client, world):
    before = _balance(demo_client, world)
    payments_before = demo_client.get(_url(world, "cabinet:payments")).content.decode()
    _pay(world, Decimal("123.45"))
    after = _balance(demo_client, world)
    assert after != before
    payments_after = demo_client.get(_url(world, "cabinet:payments")).content.decode()
    assert format_rub(Decimal("123.45")) in payments_after
    assert payments_after != payments_before


def test_a_recalculation_waits_for_the_close_then_shows_at_once(demo_client, world):
    before = _balance(demo_client, world)
    recalculation_add(
        account=world.resident_account,
        concerns_month=datetime.date(2026, 10, 1),
        amount=Decimal("123.45"),
        reason="Проверка кэша",
    )
    assert _balance(demo_client, world) == before  # not issued yet
    billing_run(organization=world.organization)
    assert _balance(demo_client, world) == before
    period_close(organization=world.organization)
    assert _balance(demo_client, world) != before
    html = demo_client.get(_url(world, "cabinet:charges")).content.decode()
    assert "Проверка кэша" in html


def test_a_close_shows_at_once_a_run_does_not(demo_client, world):
    html = demo_client.get(_url(world, "cabinet:charges")).content.decode()
    assert "Начисления за октябрь 2026" in html
    billing_run(organization=world.organization)
    html = demo_client.get(_url(world, "cabinet:charges")).content.decode()
    assert "Начисления за октябрь 2026" in html
    period_close(organization=world.organization)
    html = demo_client.get(_url(world, "cabinet:charges")).content.decode()
    assert "Начисления за ноябрь 2026" in html


def test_a_change_of_the_account_shows_at_once(demo_client, world):
    demo_client.get(_url(world))
    account = world.resident_account
    account.residents = 7
    account.save(update_fields=["residents"])
    assert "7 чел." in demo_client.get(_url(world)).content.decode()


def test_a_change_of_the_organization_or_building_shows_once_committed(
    demo_client, world, django_capture_on_commit_callbacks
):
    demo_client.get(_url(world))
    org = world.organization
    with django_capture_on_commit_callbacks(execute=True):
        org.phones = "+7 (495) 000-00-07"
        org.save(update_fields=["phones"])
    assert escape(org.phones) in demo_client.get(_url(world)).content.decode()
    building = world.resident_account.premises.building
    with django_capture_on_commit_callbacks(execute=True):
        building.street = "ул. Новая"
        building.save(update_fields=["street"])
    assert "ул. Новая" in demo_client.get(_url(world)).content.decode()


def test_a_lost_stamp_never_brings_back_an_old_page(demo_client, world):
    demo_client.get(_url(world))
    before = cache.get(STAMP_KEY)
    assert before
    cache.delete(STAMP_KEY)  # evicted: the page kept under the old stamp is built again
    assert _queries(demo_client, _url(world)) > CACHED_QUERIES
    assert cache.get(STAMP_KEY) not in (None, before)
    assert _queries(demo_client, _url(world)) <= CACHED_QUERIES


def test_a_new_day_builds_the_page_again(demo_user, world, settings):
    # Signed in long enough to see midnight (the session would end first otherwise).
    settings.SESSION_COOKIE_AGE = settings.SESSION_IDLE_TIMEOUT = 24 * 3600
    client = Client()
    client.force_login(demo_user)
    client.get(_url(world))
    assert _queries(client, _url(world)) <= CACHED_QUERIES
    msk = datetime.timezone(datetime.timedelta(hours=3))
    with time_machine.travel(datetime.datetime(2026, 11, 26, 0, 5, tzinfo=msk)):
        assert _queries(client, _url(world)) > CACHED_QUERIES


def test_a_page_with_a_message_is_never_cached(demo_client, world):
    url = _url(world, "cabinet:charges")
    for _ in range(2):
        html = demo_client.get(url, {"month": "1999-01"}).content.decode()
        assert "За выбранный месяц данных нет" in html
    assert "За выбранный месяц данных нет" not in demo_client.get(url).content.decode()


def test_a_waiting_message_is_shown_once(demo_client, world, demo_user):
    demo_client.get(_url(world))  # cached
    demo_client.post(
        reverse("cabinet:switch"),
        {"account": world.resident_account.id, "section": "cabinet:account"},
    )  # a valid switch adds no message; an invalid one does:
    demo_client.post(reverse("cabinet:switch"), {"account": 10**9})
    first = demo_client.get(_url(world)).content.decode()
    assert "Выберите лицевой счёт из списка." in first
    again = demo_client.get(_url(world)).content.decode()
    assert "Выберите лицевой счёт из списка." not in again


def test_the_username_in_the_header_is_the_users(demo_client, world, demo_user):
    demo_client.get(_url(world))
    get_user_model().objects.filter(pk=demo_user.pk).update(username="demo2")
    assert "(demo2)" in demo_client.get(_url(world)).content.decode()


def test_the_pages_can_live_in_a_cache_of_their_own(demo_client, world, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "cabinet-pages",
        },
    }
    settings.CABINET_PAGE_CACHE_ALIAS = "pages"
    demo_client.get(_url(world))
    assert _queries(demo_client, _url(world)) <= CACHED_QUERIES
    assert caches["pages"].get(STAMP_KEY)
    assert caches["default"].get(STAMP_KEY) is None
    caches["pages"].clear()
