"""The billing_run management command."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kvartplata.billing.models import BillingRun
from kvartplata.billing.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org, _, maint = f.area_world()
    f.service(org, maint.provider, "heat", method="heating", price="2000", unit="gcal")
    return org


def test_it_runs_and_reports_what_it_could_not_bill(org, capsys):
    call_command("billing_run", period="2026-03", verbosity=0)
    out = capsys.readouterr().out
    assert "Строк начислений: 1" in out
    assert "нет норматива отопления" in out
    assert BillingRun.objects.get().status == "done"


@pytest.mark.parametrize(
    ("period", "message"), [("2026-13", "Неверный период"), ("2025-01", "нет")]
)
def test_it_refuses_a_bad_period(org, period, message):
    with pytest.raises(CommandError, match=message):
        call_command("billing_run", period=period, verbosity=0)
