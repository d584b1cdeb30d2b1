"""The facts of an account's months as the run and the ledger stored them, for `calc.difference`.

Five queries for any two months (charges, recalculations, balances, payments, meters past their
verification date), whatever the number of lines: the cabinet, the receipt's e-mail and the back
office's review all explain a change of the bill from here.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kvartplata.billing.calc.difference import (
    Cause,
    Difference,
    Line,
    Month,
    Payment,
    Recalculation,
    describe,
    headline,
    signed_rub,
)
from kvartplata.billing.calc.difference import decompose as _decompose
from kvartplata.billing.models import AccountBalance, Charge, LedgerEntry, Unit
from kvartplata.billing.models import Recalculation as RecalculationRow
from kvartplata.lib.periods import period_label
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Period

ZERO = Decimal(0)
UNIT_LABELS = dict(Unit.choices)


def month_facts(account_id: int, periods: list[Period]) -> dict[int, Month]:
    """The stored facts of each period's bill of one account, by period id."""
    facts = accounts_month_facts([account_id], periods)
    return {period.id: facts[(account_id, period.id)] for period in periods}


def accounts_month_facts(
    account_ids: list[int], periods: list[Period]
) -> dict[tuple[int, int], Month]:
    """The facts of several accounts' months, by (account id, period id): five queries."""
    ids = [period.id for period in periods]
    lines: dict[tuple[int, int], list[Line]] = defaultdict(list)
    resources: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    for row in (
        Charge.objects.filter(account_id__in=account_ids, period_id__in=ids)
        .order_by("service__sort_order", "service_id", "kind", "zone")
        .values_list(
            "account_id",
            "period_id",
            "service__name",
            "service__resource",
            "service__unit",
            "amount",
            "volume",
            "tariff",
            "method",
            "kind",
            "zone",
        )
    ):
        account_id, period_id, name, resource, unit, amount, volume, tariff, method, kind, zone = (
            row
        )
        if resource:
            resources[(account_id, period_id)][resource] = name
        # The stored volume is the billed one (an increasing coefficient is already in it).
        lines[(account_id, period_id)].append(
            Line(
                service=name,
                amount=amount,
                volume=volume,
                tariff=tariff,
                method=method,
                kind=kind,
                zone=zone,
                unit=UNIT_LABELS.get(unit, unit),
            )
        )
    recalculations: dict[tuple[int, int], list[Recalculation]] = defaultdict(list)
    for account_id, period_id, name, amount, month, reason in (
        RecalculationRow.objects.filter(account_id__in=account_ids, period_id__in=ids)
        .order_by("concerns_month", "id")
        .values_list(
            "account_id", "period_id", "service__name", "amount", "concerns_month", "reason"
        )
    ):
        recalculations[(account_id, period_id)].append(
            Recalculation(name or "Прочее", amount, month, reason)
        )
    balances = {
        (row["account_id"], row["period_id"]): row
        for row in AccountBalance.objects.filter(
            account_id__in=account_ids, period_id__in=ids
        ).values("account_id", "period_id", "opening", "penalties", "payments")
    }
    payments: dict[tuple[int, int], list[Payment]] = defaultdict(list)
    for account_id, period_id, day, amount in (
        LedgerEntry.objects.filter(
            account_id__in=account_ids, period_id__in=ids, kind=LedgerEntry.Kind.PAYMENT
        )
        .order_by("entry_date", "id")
        .values_list("account_id", "period_id", "entry_date", "amount")
    ):
        # Payments reduce the debt: they are negative entries in the journal.
        payments[(account_id, period_id)].append(Payment(day, -amount))
    # Meters past their verification date (electricity meters' readings are still used).
    expiring: dict[int, list[tuple[str, date]]] = defaultdict(list)
    last = max((period.month for period in periods), default=None)
    for account_id, resource, day in (
        Meter.objects.filter(
            account_id__in=account_ids,
            archived_on__isnull=True,
            next_verification_on__lt=last,
        )
        .exclude(resource="electricity")
        .values_list("account_id", "resource", "next_verification_on")
    ):
        expiring[account_id].append((resource, day))
    months = {}
    for account_id in account_ids:
        for period in periods:
            key = (account_id, period.id)
            balance = balances.get(key) or {}
            opening = balance.get("opening") or ZERO
            paid = balance.get("payments") or ZERO
            months[key] = Month(
                month=period.month,
                lines=tuple(lines[key]),
                recalculations=tuple(recalculations[key]),
                penalties=balance.get("penalties") or ZERO,
                carried=opening - paid,
                payments=tuple(payments[key]),
                expired=tuple(
                    (resources[key][resource], day)
                    for resource, day in expiring[account_id]
                    if day < period.month and resource in resources[key]
                ),
            )
    return months


def bill_change(account_id: int, period: Period, previous: Period) -> Difference:
    """Why the bill of `period` differs from the bill of `previous` (both issued months)."""
    facts = month_facts(account_id, [previous, period])
    return _decompose(facts[previous.id], facts[period.id])


# --- what a resident, a receipt and an operator read ------------------------------------------

# Causes that come from the estimate method: the resident can act (send readings, verify a meter).
METER_CAUSES = frozenset({Cause.METHOD, Cause.COEFFICIENT})
OTHER = "Пени и долг"


@dataclass(frozen=True)
class ServiceChange:
    """One service's change with its causes in plain words (service None: penalties and debt)."""

    name: str
    amount: Decimal
    sentences: tuple[str, ...]
    meters: bool  # the estimate method is a cause: link to the meters page

    @property
    def signed(self) -> str:
        return signed_rub(self.amount)


@dataclass(frozen=True)
class Explanation:
    """The change of the total due of an issued month against the previous issued month."""

    period: Period
    previous: Period
    difference: Difference
    headline: str
    services: tuple[ServiceChange, ...]

    @property
    def change(self) -> Decimal:
        return self.difference.total_change

    @property
    def meters(self) -> bool:
        return any(s.meters for s in self.services)

    def summary(self, limit: int = 3) -> list[str]:
        """The largest causes, one line per service: «отопление +812,40 ₽ — тариф …»."""
        return [
            f"{s.name}: {signed_rub(s.amount)} — {'; '.join(s.sentences)}"
            for s in self.services[:limit]
        ]


def previous_issued(periods: list[Period], period: Period) -> Period | None:
    """The issued month before `period` (the list is an organization's months, oldest first)."""
    earlier = [p for p in periods if p.month < period.month and p.state == Period.State.CLOSED]
    return earlier[-1] if earlier else None


def explanation(
    account_id: int, periods: list[Period], period: Period | None
) -> Explanation | None:
    """Why the bill of the issued month `period` differs from the previous issued month's.

    None when `period` is not issued or has no issued month before it. Five queries.
    """
    if period is None or period.state != Period.State.CLOSED:
        return None
    previous = previous_issued(periods, period)
    if previous is None:
        return None
    return explain_difference(period, previous, bill_change(account_id, period, previous))


def accounts_explanations(
    account_ids: list[int], period: Period, previous: Period
) -> dict[int, Explanation]:
    """The explanations of several accounts at once (the staff's review): five queries."""
    facts = accounts_month_facts(account_ids, [previous, period])
    return {
        account_id: explain_difference(
            period,
            previous,
            _decompose(facts[(account_id, previous.id)], facts[(account_id, period.id)]),
        )
        for account_id in account_ids
    }


def receipt_block(why: Explanation, limit: int = 3) -> dict:
    """The short block of the ЕПД (snapshot's ``change``): the headline and the largest causes."""
    before = period_label(why.previous.month)
    return {
        "headline": f"{why.headline} по сравнению с квитанцией за {before}",
        "causes": why.summary(limit),
    }


def explain_difference(period: Period, previous: Period, difference: Difference) -> Explanation:
    services = tuple(
        ServiceChange(
            name=service or OTHER,
            amount=amount,
            sentences=tuple(describe(part) for part in parts),
            meters=any(part.cause in METER_CAUSES for part in parts),
        )
        for service, amount, parts in difference.by_service()
        if parts
    )
    return Explanation(
        period=period,
        previous=previous,
        difference=difference,
        headline=headline(difference),
        services=services,
    )
