"""Done-when of #19 in a browser: four residents of the demo each read why their sum changed.

The July tariff rise, a meter whose verification expired (made to expire here), a recalculation
after late readings and a new payment: each explanation is on the charges page, in plain
Russian, and its causes sum to the change of the total due (the receipts' closing balances).
Screenshots go to docs/screenshots/ with KVARTPLATA_SCREENSHOTS=1, else to pytest's tmp_path.
"""

import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing.bill_change import bill_change
from kvartplata.billing.calc.difference import Cause, describe
from kvartplata.billing.models import AccountBalance
from kvartplata.billing.services import billing_run
from kvartplata.demo.world import build
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Period
from kvartplata.users.models import AccountLink

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
JULY = datetime.date(2026, 7, 1)


@pytest.fixture
def live_world(transactional_db):
    world = build(accounts=20, months=6)
    # A cold-water meter's verification ran out on 10 November: December is billed without its
    # readings (by the average first, ПП 354 п. 59), then issued.
    current = Period.objects.get(organization=world.organization, state=Period.State.OPEN)
    meter = (
        Meter.objects.filter(
            account__organization=world.organization,
            resource="cold_water",
            archived_on__isnull=True,
        )
        .order_by("account__number")
        .first()
    )
    meter.next_verification_on = current.month - datetime.timedelta(days=21)
    meter.save()
    billing_run(organization=world.organization)
    period_close_with_receipts(organization=world.organization)
    world.expired_account_id = meter.account_id
    return world


def _cases(world) -> dict[str, tuple[int, Period, Period]]:
    """(account, month, month before) of each kind of change the issue asks to be explained."""
    periods = list(
        Period.objects.filter(organization=world.organization, state=Period.State.CLOSED).order_by(
            "month"
        )
    )
    found: dict[str, tuple[int, Period, Period]] = {}
    for previous, period in zip(periods, periods[1:], strict=False):
        for account_id in world.accounts:
            parts = bill_change(account_id, period, previous).parts
            tariff = sum((p.amount for p in parts if p.cause == Cause.TARIFF), 0)
            if period.month == JULY and tariff > 0:
                found.setdefault("tariff", (account_id, period, previous))
            if account_id == world.expired_account_id and any(
                p.cause == Cause.METHOD and p.extra.get("expired_on") for p in parts
            ):
                found.setdefault("meter", (account_id, period, previous))
            if any(
                p.cause == Cause.RECALCULATION and "показания" in p.extra["reason"] for p in parts
            ):
                found.setdefault("recalculation", (account_id, period, previous))
            if any(p.cause == Cause.DEBT and p.extra["payments"] for p in parts):
                found.setdefault("payment", (account_id, period, previous))
    return found


def _text(value: str) -> str:
    return " ".join(value.replace("\xa0", " ").split())


@pytest.mark.browser
def test_it_explains_four_residents_changes_in_the_browser(browser_page, live_world, tmp_path):
    shots = SHOTS if os.environ.get("KVARTPLATA_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    cases = _cases(live_world)
    assert set(cases) == {"tariff", "meter", "recalculation", "payment"}, cases
    demo = get_user_model().objects.get(username="demo")
    for account_id, _, _ in cases.values():
        AccountLink.objects.get_or_create(user=demo, account_id=account_id)

    page = browser_page
    base = page.base_url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "demo")
    page.fill("input[name=password]", settings.DEMO_RESIDENT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/*/")

    for name, (account_id, period, previous) in cases.items():
        difference = bill_change(account_id, period, previous)
        closing = dict(
            AccountBalance.objects.filter(
                account_id=account_id, period__in=[period, previous]
            ).values_list("period_id", "closing")
        )
        # Complete: the causes sum to the change of what the two receipts asked for.
        change = closing[period.id] - closing[previous.id]
        assert sum(p.amount for p in difference.parts) == difference.total_change == change

        response = page.goto(f"{base}/accounts/{account_id}/charges/?month={period.month:%Y-%m}")
        assert response.status == 200
        block = page.locator("[data-testid=bill-change]")
        if block.locator("details").count():
            block.locator("details summary").click()
        shown = _text(block.inner_text())
        verb = "выросла" if change > 0 else "уменьшилась"
        assert f"Сумма к оплате {verb} на" in shown, name
        for part in difference.parts:
            assert _text(describe(part)) in shown, (name, describe(part))
        if name == "tariff":
            assert "тариф с 1 июля" in shown
        if name == "meter":
            assert "срок поверки счётчика истёк 10.11.2026" in shown
            assert "поверьте счётчик и передайте показания" in shown
        if name == "recalculation":
            assert "перерасчёт за" in shown
        if name == "payment":
            assert "учтена" in shown
        block.screenshot(
            path=str(shots / ("bill-change.png" if name == "tariff" else f"bill-change-{name}.png"))
        )
        if name == "meter":
            block.get_by_role("link", name="Счётчики и показания").first.click()
            page.wait_for_url(f"{base}/accounts/{account_id}/meters/")
