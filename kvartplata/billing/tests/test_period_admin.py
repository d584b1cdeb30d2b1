"""The back-office actions of the monthly cycle: run the billing, close the period."""

import pytest
from django.urls import reverse

from kvartplata.billing.models import BillingRun
from kvartplata.billing.tests import factories as f
from kvartplata.registry.models import Period
from kvartplata.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    org, _, _ = f.area_world()
    period = org.periods.get()
    staff = User.objects.create_user("op", "op@example.com", "x", is_staff=True, organization=org)
    staff.is_superuser = True
    staff.save()
    return org, period, staff


def act(client, period, action):
    return client.post(
        reverse("admin:registry_period_changelist"),
        {"action": action, "_selected_action": [period.id]},
        follow=True,
    )


def test_it_runs_the_billing_and_closes_the_period(
    world, client, django_capture_on_commit_callbacks
):
    org, period, staff = world
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, period, "run_billing")
    assert "поставлено в очередь" in response.content.decode()
    assert BillingRun.objects.get().status == "done"
    # The list's action leads to the month page's close: the figures and a confirmation.
    response = act(client, period, "close_period")
    assert "Будут выпущены квитанции" in response.content.decode()
    assert Period.objects.get(id=period.id).state == "billed"
    response = client.post(
        reverse("office_month:close", args=[period.id]), {"confirm": "yes"}, follow=True
    )
    assert "закрыт" in response.content.decode()
    assert Period.objects.get(id=period.id).state == "closed"
    assert Period.objects.filter(organization=org, state="open").count() == 1


def test_it_says_why_it_cannot_close(world, client):
    _, period, staff = world
    client.force_login(staff)
    response = act(client, period, "close_period")
    assert "Сначала выполните начисление" in response.content.decode()
    assert Period.objects.get(id=period.id).state == "open"
