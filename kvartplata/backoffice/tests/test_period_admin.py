"""Periods in the back office: opened with clear Russian refusals, a closed one is read-only."""

import datetime as dt

from kvartplata.registry.models import Period

from .test_admin_pages import admin_url


def test_it_refuses_a_second_unclosed_period(client, world):
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(Period, "add"), {"month": "01.02.2025", "due_date": "15.03.2025"}
    )
    assert response.status_code == 200
    assert "незакрытый период" in response.content.decode()
    assert Period.objects.filter(organization=world.a.organization).count() == 1


def test_it_refuses_a_month_not_on_the_first(client, world):
    world.a[Period].__class__.objects.filter(pk=world.a[Period].pk).update(state="closed")
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(Period, "add"), {"month": "05.02.2025", "due_date": "15.03.2025"}
    )
    assert response.status_code == 200
    assert "первое число месяца" in response.content.decode()


def test_it_opens_the_next_period_for_the_operators_organization(client, world):
    Period.objects.filter(pk=world.a[Period].pk).update(state="closed")
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(Period, "add"), {"month": "01.02.2025", "due_date": "15.03.2025"}
    )
    assert response.status_code == 302
    period = Period.objects.get(organization=world.a.organization, month=dt.date(2025, 2, 1))
    assert period.state == Period.State.OPEN


def test_it_shows_a_closed_period_read_only(client, world):
    Period.objects.filter(pk=world.a[Period].pk).update(state="closed")
    client.force_login(world.a.staff)
    url = admin_url(Period, "change", world.a[Period].pk)
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.post(url, {"due_date": "20.02.2025"}).status_code == 403


def test_it_changes_only_the_due_date_of_an_open_period(client, world):
    period = world.a[Period]
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(Period, "change", period.pk),
        {"month": "01.06.2025", "due_date": "20.02.2025", "state": "closed"},
    )
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.due_date == dt.date(2025, 2, 20)
    assert period.month == dt.date(2025, 1, 1)
    assert period.state == Period.State.OPEN
