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
from kvartplata.lib.db import Select
from kvartplata.lib.periods import period_label
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Period
from kvartplata.registry.vocabulary import Resource

ZERO = Decimal(0)
UNIT_LABELS = dict(Unit.choices)


def month_facts(account_id: int, periods: list[Period]) -> dict[int, Month]:
    """The stored facts of each period's bill of one account, by period id."""
    facts = accounts_month_facts([account_id], periods)
    return {period.id: facts[(account_id, period.id)] for period in periods}


def _field(model, name):
    return model._meta.get_field(name)


# The five reads, written once (lib.db.Select): the review and the mailing ask them for many
# accounts, the cabinet on every page view.
_CHARGES = Select(
    "SELECT c.account_id, c.period_id, s.name, s.resource, s.unit, c.amount, c.volume, c.tariff,"
    " c.method, c.kind, c.zone FROM billing_charge c JOIN billing_service s ON s.id = c.service_id"
    " WHERE c.account_id IN ({accounts}) AND c.period_id IN ({periods})"
    " ORDER BY c.account_id, c.period_id, s.sort_order, c.service_id, c.kind, c.zone",
    [None, None, None, None, None]
    + [_field(Charge, name) for name in ("amount", "volume", "tariff")]
    + [None, None, None],
)
_RECALCULATIONS = Select(
    "SELECT r.account_id, r.period_id, s.name, r.amount, r.concerns_month, r.reason"
    " FROM billing_recalculation r LEFT JOIN billing_service s ON s.id = r.service_id"
    " WHERE r.account_id IN ({accounts}) AND r.period_id IN ({periods})"
    " ORDER BY r.concerns_month, r.id",
    [None, None, None]
    + [_field(RecalculationRow, name) for name in ("amount", "concerns_month")]
    + [None],
)
_BALANCES = Select(
    "SELECT account_id, period_id, opening, penalties, payments FROM billing_accountbalance"
    " WHERE account_id IN ({accounts}) AND period_id IN ({periods})",
    [None, None] + [_field(AccountBalance, name) for name in ("opening", "penalties", "payments")],
)
_PAYMENTS = Select(
    "SELECT account_id, period_id, entry_date, amount FROM billing_ledgerentry"
    " WHERE account_id IN ({accounts}) AND period_id IN ({periods}) AND kind = %s"
    " ORDER BY entry_date, id",
    [None, None, _field(LedgerEntry, "entry_date"), _field(LedgerEntry, "amount")],
)
# Meters past their verification date (electricity meters' readings are still used).
_EXPIRING = Select(
    "SELECT account_id, resource, next_verification_on FROM meters_meter"
    " WHERE account_id IN ({accounts}) AND archived_on IS NULL AND next_verification_on < %s"
    " AND resource <> %s",
    [None, None, _field(Meter, "next_verification_on")],
)


def accounts_month_facts(
    account_ids: list[int], periods: list[Period]
) -> dict[tuple[int, int], Month]:
    """The facts of several accounts' months, by (account id, period id): five queries."""
    ids = [period.id for period in periods]
    sizes = {"accounts": len(account_ids), "periods": len(ids)}
    both = [*account_ids, *ids]
    lines: dict[tuple[int, int], list[Line]] = defaultdict(list)
    resources: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    if not account_ids or not ids:
        rows = recalculation_rows = balance_rows = payment_rows = expiring_rows = []
    else:
        rows = _CHARGES.rows(both, **sizes)
        recalculation_rows = _RECALCULATIONS.rows(both, **sizes)
        balance_rows = _BALANCES.rows(both, **sizes)
        payment_rows = _PAYMENTS.rows([*both, LedgerEntry.Kind.PAYMENT], **sizes)
        last = max(period.month for period in periods)
        expiring_rows = _EXPIRING.rows(
            [*account_ids, last, Resource.ELECTRICITY], accounts=len(account_ids)
        )
    for row in rows:
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
    for account_id, period_id, name, amount, month, reason in recalculation_rows:
        recalculations[(account_id, period_id)].append(
            Recalculation(name or "Прочее", amount, month, reason)
        )
    balances = {
        (account_id, period_id): {"opening": opening, "penalties": penalties, "payments": paid}
        for account_id, period_id, opening, penalties, paid in balance_rows
    }
    payments: dict[tuple[int, int], list[Payment]] = defaultdict(list)
    for account_id, period_id, day, amount in payment_rows:
        # Payments reduce the debt: they are negative entries in the journal.
        payments[(account_id, period_id)].append(Payment(day, -amount))
    expiring: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for account_id, resource, day in expiring_rows:
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
# The largest changes a page shows at once; the others unfold.
SHOWN_FIRST = 3


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
    """The change of the total due of an issued month against the previous issued month.

    Computed from the stored facts (`explain_difference`) when a receipt is issued, and kept in
    the receipt's snapshot (`receipt_block`), from which the cabinet and the e-mail read it
    back (`stored_explanation`): what the resident reads is what was frozen at the close.
    """

    month: date
    previous_month: date
    headline: str
    services: tuple[ServiceChange, ...]
    change: Decimal
    # The causes themselves, when computed (the staff's review); not kept in a snapshot.
    difference: Difference | None = None

    @property
    def meters(self) -> bool:
        return any(s.meters for s in self.services)

    @property
    def largest(self) -> tuple[ServiceChange, ...]:
        """The services shown first (the largest changes); the rest unfold (`others`)."""
        return self.services[:SHOWN_FIRST]

    @property
    def others(self) -> tuple[ServiceChange, ...]:
        return self.services[SHOWN_FIRST:]

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
    account_id: int, periods: list[Period], period: Period | None, *, frozen: dict | None = None
) -> Explanation | None:
    """Why the bill of the issued month `period` differs from the previous issued month's.

    None when `period` is not issued or has no issued month before it. ``frozen``: the month's
    receipt's ``change`` block (`receipt_block`), read back when it holds the whole explanation;
    otherwise (a month closed without receipts, a receipt frozen before) computed: five queries.
    """
    if period is None or period.state != Period.State.CLOSED:
        return None
    stored = stored_explanation(frozen, period.month)
    if stored is not None:
        return stored
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
    """The snapshot's ``change``: the ЕПД's short block (headline and the largest causes) and
    the whole explanation the cabinet and the e-mail show (`stored_explanation` reads it)."""
    before = period_label(why.previous_month)
    return {
        "headline": f"{why.headline} по сравнению с квитанцией за {before}",
        "causes": why.summary(limit),
        "lead": why.headline,
        "previous_month": why.previous_month.isoformat(),
        "total": f"{why.change:.2f}",
        "services": [
            {
                "name": s.name,
                "amount": f"{s.amount:.2f}",
                "sentences": list(s.sentences),
                "meters": s.meters,
            }
            for s in why.services
        ],
    }


def stored_explanation(block: dict | None, month: date) -> Explanation | None:
    """The explanation a receipt of `month` froze (`receipt_block`); None when the receipt
    predates the whole explanation in its snapshot (then it is computed: `explanation`)."""
    if not block or "services" not in block:
        return None
    return Explanation(
        month=month,
        previous_month=date.fromisoformat(block["previous_month"]),
        headline=block["lead"],
        services=tuple(
            ServiceChange(
                name=s["name"],
                amount=Decimal(s["amount"]),
                sentences=tuple(s["sentences"]),
                meters=s["meters"],
            )
            for s in block["services"]
        ),
        change=Decimal(block["total"]),
    )


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
        month=period.month,
        previous_month=previous.month,
        headline=headline(difference),
        services=services,
        change=difference.total_change,
        difference=difference,
    )
