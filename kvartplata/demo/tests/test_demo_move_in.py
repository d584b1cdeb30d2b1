"""manage.py demo --via-import: the demo organization moves in through the importer."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from kvartplata.billing.models import AccountBalance
from kvartplata.meters.models import Reading
from kvartplata.registry.models import Period, PersonalAccount
from kvartplata.users.models import AccountLink

pytestmark = pytest.mark.django_db
MSK = datetime.timezone(datetime.timedelta(hours=3))


def test_it_builds_the_demo_from_a_generated_workbook(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, tzinfo=MSK), tick=False):
        call_command("demo", accounts=20, via_import=True, stdout=out)
    assert (tmp_path / "demo-registry.xlsx").exists()
    assert "лицевые счета: новых 20" in out.getvalue()
    assert PersonalAccount.objects.count() == 20
    assert Reading.objects.filter(source="import", month=datetime.date(2026, 10, 1)).count() == 60
    november = Period.objects.get(month=datetime.date(2026, 11, 1))
    assert november.state == Period.State.BILLED
    link = AccountLink.objects.get(user__username="demo")
    balance = AccountBalance.objects.get(account=link.account, period=november)
    # The first generated account moves in with 3 months of debts to 2 providers.
    assert balance.opening > 0 and balance.charges > 0
