"""Recalculations entered by staff: only into an open period, stamped with who entered them."""

import datetime as dt

from kvartplata.billing.models import Recalculation, Service
from kvartplata.registry.models import Period, PersonalAccount

from .test_admin_pages import admin_url


def form(world, **changes):
    data = {
        "account": world.a[PersonalAccount].pk,
        "period": world.a[Period].pk,
        "concerns_month": "01.12.2024",
        "service": world.a[Service].pk,
        "amount": "-50.00",
        "reason": "Перерасчёт за отсутствие",
    }
    data.update(changes)
    return data


def test_it_stamps_the_operator_and_source(client, world):
    client.force_login(world.a.staff)
    response = client.post(admin_url(Recalculation, "add"), form(world))
    assert response.status_code == 302
    recalculation = Recalculation.objects.get(reason="Перерасчёт за отсутствие")
    assert recalculation.created_by == world.a.staff
    assert recalculation.source == Recalculation.Source.STAFF
    assert recalculation.concerns_month == dt.date(2024, 12, 1)


def test_it_refuses_a_closed_period(client, world):
    Period.objects.filter(pk=world.a[Period].pk).update(state="closed")
    client.force_login(world.a.staff)
    response = client.post(admin_url(Recalculation, "add"), form(world))
    assert response.status_code == 200
    assert "period" in response.context["adminform"].form.errors
    assert not Recalculation.objects.filter(reason="Перерасчёт за отсутствие").exists()


def test_it_refuses_another_organizations_account(client, world):
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(Recalculation, "add"), form(world, account=world.b[PersonalAccount].pk)
    )
    assert response.status_code == 200
    assert "account" in response.context["adminform"].form.errors


def test_it_refuses_zero_and_a_mid_month_date(client, world):
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(Recalculation, "add"), form(world, amount="0", concerns_month="15.12.2024")
    )
    errors = response.context["adminform"].form.errors
    assert "amount" in errors
    assert "concerns_month" in errors


def test_it_freezes_a_recalculation_once_its_period_is_billed(client, world):
    Period.objects.filter(pk=world.a[Period].pk).update(state="billed")
    client.force_login(world.a.staff)
    recalculation = world.a[Recalculation]
    response = client.get(admin_url(Recalculation, "change", recalculation.pk))
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False


def test_it_books_the_recalculation_into_the_ledger(client, world):
    from kvartplata.billing.models import LedgerEntry

    client.force_login(world.a.staff)
    client.post(admin_url(Recalculation, "add"), form(world))
    recalculation = Recalculation.objects.get(reason="Перерасчёт за отсутствие")
    entry = LedgerEntry.objects.get(kind="recalculation", source_id=recalculation.pk)
    assert entry.amount == recalculation.amount
    assert entry.concerns_month == dt.date(2024, 12, 1)


def test_it_refuses_an_amount_over_the_maximum_per_line(client, world, settings):
    settings.MAX_LINE_AMOUNT = "1000.00"
    client.force_login(world.a.staff)
    response = client.post(admin_url(Recalculation, "add"), form(world, amount="-1000.01"))
    assert response.status_code == 200
    assert "больше допустимой" in str(response.context["adminform"].form.errors["amount"])
    for amount in ("NaN", "Infinity", "1e400", "99999999999999999999.99"):
        response = client.post(admin_url(Recalculation, "add"), form(world, amount=amount))
        assert response.status_code == 200
        assert "amount" in response.context["adminform"].form.errors
    assert not Recalculation.objects.filter(reason="Перерасчёт за отсутствие").exists()
