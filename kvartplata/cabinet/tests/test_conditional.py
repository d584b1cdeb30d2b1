"""Repeated views of the account pages: 304 while nothing they show has changed, 200 after."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing import ledger
from kvartplata.billing.models import Service
from kvartplata.billing.services import billing_run, recalculation_add
from kvartplata.registry.models import Period
from kvartplata.users.models import AccountLink
from kvartplata.users.services import user_create

PAGES = ["cabinet:account", "cabinet:charges", "cabinet:payments"]


def _url(world, name="cabinet:account"):
    return reverse(name, args=[world.resident_account.id])


def _again(client, url, first, **params):
    return client.get(url, params, headers={"if-none-match": first["ETag"]})


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


# Session, user, links with accounts, periods, journal fingerprint; then what the page shows
# besides: the card its frozen bill change, the charges page services and meters.
REPEAT_QUERIES = {"cabinet:account": 6, "cabinet:charges": 7, "cabinet:payments": 5}


@pytest.mark.parametrize("name", PAGES)
def test_it_answers_a_repeat_with_304(demo_client, world, name, django_assert_num_queries):
    url = _url(world, name)
    first = demo_client.get(url)
    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    with django_assert_num_queries(REPEAT_QUERIES[name]):  # no page built
        second = _again(demo_client, url, first)
    assert second.status_code == 304
    assert second.content == b""
    # Kept by the browser on condition that it asks each time; never by a shared cache.
    assert first["Cache-Control"] == second["Cache-Control"] == "private, no-cache"


def test_it_gives_each_query_its_own_tag(demo_client, world):
    url = _url(world, "cabinet:charges")
    first = demo_client.get(url)
    assert _again(demo_client, url, first, month="2026-09").status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_it_answers_200_after_a_payment(demo_client, world, name):
    url = _url(world, name)
    first = demo_client.get(url)
    _pay(world, Decimal("123.45"))
    again = _again(demo_client, url, first)
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_it_answers_200_after_a_run_and_after_the_close(demo_client, world):
    url = _url(world)
    first = demo_client.get(url)
    recalculation_add(
        account=world.resident_account,
        concerns_month=datetime.date(2026, 10, 1),
        amount=Decimal("123.45"),
        reason="Проверка",
    )
    billing_run(organization=world.organization)
    after_run = _again(demo_client, url, first)
    assert after_run.status_code == 200
    period_close_with_receipts(organization=world.organization)
    after_close = _again(demo_client, url, after_run)
    assert after_close.status_code == 200
    assert after_close["ETag"] != after_run["ETag"]


@pytest.mark.parametrize("name", PAGES)
def test_it_answers_200_after_the_holders_name_changes(demo_client, world, name):
    url = _url(world, name)
    first = demo_client.get(url)
    world.resident_account.holder_first_name = "Пётр"
    world.resident_account.save(update_fields=["holder_first_name"])
    assert _again(demo_client, url, first).status_code == 200


def test_it_answers_200_after_the_login_changes(demo_client, world, demo_user):
    url = _url(world)
    first = demo_client.get(url)
    demo_user.username = "demo2"
    demo_user.save(update_fields=["username"])
    again = _again(demo_client, url, first)
    assert again.status_code == 200
    assert "demo2" in again.content.decode()


def test_it_answers_200_after_a_link_or_a_service_changes(demo_client, world, demo_user):
    url = _url(world, "cabinet:charges")
    first = demo_client.get(url)
    AccountLink.objects.create(user=demo_user, account=world.spare_account)
    second = _again(demo_client, url, first)
    assert second.status_code == 200
    assert world.spare_account.number in second.content.decode()
    Service.objects.filter(organization=world.organization).update(name="Новое имя")
    assert _again(demo_client, url, second).status_code == 200


def test_it_never_answers_304_to_another_user(demo_client, world):
    url = _url(world)
    first = demo_client.get(url)
    relative = user_create(
        username="rodnya", email="rodnya@example.ru", password="Kvart-plata-2025"
    )
    AccountLink.objects.create(user=relative, account=world.resident_account)
    other = Client()
    other.force_login(relative)
    answer = _again(other, url, first)
    assert answer.status_code == 200
    assert "(rodnya)" in answer.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_it_gives_an_outsider_404_whatever_the_tag(demo_client, world, outsider, name):
    url = _url(world, name)
    first = demo_client.get(url)
    other = Client()
    other.force_login(outsider)
    assert _again(other, url, first).status_code == 404


def test_it_gives_404_at_once_after_unlinking(demo_client, world, demo_user):
    url = _url(world)
    first = demo_client.get(url)
    AccountLink.objects.filter(user=demo_user, account=world.resident_account).delete()
    assert _again(demo_client, url, first).status_code == 404


def test_it_sends_the_page_anew_when_the_csrf_secret_changes(world, demo_user):
    """A page kept by the browser carries a token of the old secret: it must not be reused."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_user)
    url = _url(world)
    first = client.get(url)
    assert _again(client, url, first).status_code == 304
    client.cookies.pop("csrftoken", None)  # a new secret, as after signing in again
    again = _again(client, url, first)
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_it_tags_no_page_that_carries_a_message(demo_client, world):
    url = _url(world)
    first = demo_client.get(url)
    # A wrong choice in the switcher leaves a message for the page that follows.
    response = demo_client.post(reverse("cabinet:switch"), {"account": "0"})
    assert response.status_code == 302
    page = _again(demo_client, url, first)
    assert page.status_code == 200
    assert not page.has_header("ETag")
    assert "Выберите лицевой счёт из списка." in page.content.decode()


def test_it_answers_200_after_a_meters_verification_date_changes(demo_client, world):
    from kvartplata.meters.models import Meter

    url = _url(world, "cabinet:charges")
    first = demo_client.get(url)
    meter = Meter.objects.filter(account=world.resident_account).first()
    # The explanation of the bill names an expired verification and its date.
    Meter.objects.filter(pk=meter.pk).update(
        next_verification_on=meter.next_verification_on + datetime.timedelta(days=365)
    )
    assert _again(demo_client, url, first).status_code == 200


def test_it_keeps_the_pages_that_do_not_show_what_changed(demo_client, world):
    card, charges, payments = (demo_client.get(_url(world, name)) for name in PAGES)
    # Service names: on the charges page; the card's bill change is the one its receipt froze.
    Service.objects.filter(organization=world.organization).update(name="Новое имя")
    assert _again(demo_client, _url(world, "cabinet:charges"), charges).status_code == 200
    assert _again(demo_client, _url(world), card).status_code == 304
    assert _again(demo_client, _url(world, "cabinet:payments"), payments).status_code == 304


def test_it_answers_200_on_the_card_when_its_computed_bill_change_moves(demo_client, world):
    # A month closed without receipts: its bill change is computed from today's facts.
    billing_run(organization=world.organization)
    period_close_with_receipts(organization=world.organization, issue_receipts=False)
    url = _url(world)
    first = demo_client.get(url)
    assert 'data-testid="bill-change"' in first.content.decode()
    Service.objects.filter(organization=world.organization).update(name="Новое имя")
    again = _again(demo_client, url, first)
    assert again.status_code == 200
    assert "Новое имя" in again.content.decode()
