"""`billing_import FILE`: a refusal of the cycle is a Russian message, never a traceback."""

import pytest
from django.core.management import CommandError, call_command

from kvartplata.billing.management.commands import billing_import
from kvartplata.billing.services import BillingError
from kvartplata.billing.tests import factories as f

pytestmark = pytest.mark.django_db


def test_it_reports_a_period_closed_while_the_file_was_checked(tmp_path, monkeypatch):
    org = f.organization()
    path = tmp_path / "charges.csv"
    path.write_text("x\n", encoding="utf-8")

    def closed_meanwhile(**_kwargs):
        raise BillingError("Период закрыт.")

    monkeypatch.setattr(billing_import, "charges_import", closed_meanwhile)
    with pytest.raises(CommandError, match="Период закрыт"):
        call_command("billing_import", str(path), organization=str(org.pk))


def test_it_reports_an_unreadable_file(tmp_path):
    org = f.organization()
    with pytest.raises(CommandError, match="Файл не читается"):
        call_command("billing_import", str(tmp_path / "missing.csv"), organization=str(org.pk))
