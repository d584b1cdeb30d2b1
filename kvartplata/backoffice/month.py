"""The month page's read side: the readings window, the last run and the review of a period.

Set-based: a fixed number of queries whatever the number of accounts; long lists are cut to
`LIST_LIMIT` rows with their full count.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max

from kvartplata.backoffice import reports
from kvartplata.billing.bill_change import accounts_explanations
from kvartplata.billing.models import BillingRun
from kvartplata.lib.db import as_kopecks, from_kopecks, kopecks_sum
from kvartplata.lib.periods import add_months
from kvartplata.registry.models import Building, Period, PersonalAccount

ZERO = Decimal("0.00")
LIST_LIMIT = 100
# The accounts of the review whose change is decomposed into causes (five queries for all).
EXPLAIN_LIMIT = 10
DEFAULT_SHARE = Decimal("30")  # per cent: «changed by more than a set share»


def readings_window_end(period: Period) -> datetime.date:
    """The last day of the readings window of the month (the latest of any building's)."""
    organization = period.organization
    latest = Building.objects.filter(organization=organization).aggregate(
        day=Max("readings_day_to")
    )["day"]
    day = max(organization.readings_day_to, latest or 0)
    following = add_months(period.month, 1)
    last_day = (following - datetime.timedelta(days=1)).day
    return period.month.replace(day=min(day, last_day))


@dataclass
class Readings:
    metered: int
    sent: int
    window_end: datetime.date

    @property
    def missing(self) -> int:
        return max(self.metered - self.sent, 0)


def readings_counts(period: Period) -> Readings:
    report = reports.readings(period.organization_id, period.month, period.month)
    metered = sum(r[2] for r in report.rows)
    sent = sum(r[3] for r in report.rows)
    return Readings(metered=metered, sent=sent, window_end=readings_window_end(period))


def last_run(period: Period) -> BillingRun | None:
    return BillingRun.objects.filter(period=period).order_by("-created_at", "-id").first()


@dataclass
class Compared:
    name: str
    previous: Decimal
    current: Decimal

    @property
    def change(self) -> Decimal:
        return self.current - self.previous


@dataclass
class AccountLine:
    account: PersonalAccount
    previous: Decimal
    current: Decimal

    @property
    def share(self) -> Decimal | None:
        if not self.previous:
            return None
        return ((self.current - self.previous) * 100 / abs(self.previous)).quantize(Decimal("0.1"))


@dataclass
class Review:
    previous_month: datetime.date
    services: list[Compared]
    providers: list[Compared]
    changed: list[AccountLine]
    changed_count: int
    nonpositive: list[AccountLine]
    nonpositive_count: int
    unbillable: list[dict]
    share: Decimal
    totals: dict = field(default_factory=dict)
    # The accounts changed most, each with why (billing/bill_change.py): (line, explanation).
    explained: list = field(default_factory=list)


def _fetch(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def review(period: Period, *, share: Decimal = DEFAULT_SHARE) -> Review:
    """Totals by service and by provider against the previous month, the accounts whose total
    changed by more than `share` per cent, those with a zero or negative total, and what the
    last run could not bill, and why the bills of the accounts changed most changed. Queries: 5
    (+1 for the accounts listed, +5 for the explanations)."""
    previous = Period.objects.filter(
        organization_id=period.organization_id, month=add_months(period.month, -1)
    ).first()
    ids = [period.id] + ([previous.id] if previous else [])
    id_list = ", ".join(str(int(i)) for i in ids)
    charge_k, recalc_k = kopecks_sum("c.amount"), kopecks_sum("r.amount")
    # Totals by service: the charge lines and the recalculations booked in each month (summed
    # per month and service first: one rounding per sum, not per line).
    by_service = _fetch(
        f"""
        SELECT x.period_id, s.name, s.sort_order, s.id, SUM(x.k) FROM (
            SELECT c.period_id, c.service_id, {charge_k} AS k FROM billing_charge c
            WHERE c.period_id IN ({id_list}) GROUP BY c.period_id, c.service_id
            UNION ALL
            SELECT r.period_id, r.service_id, {recalc_k} FROM billing_recalculation r
            WHERE r.period_id IN ({id_list}) GROUP BY r.period_id, r.service_id
        ) x LEFT JOIN billing_service s ON s.id = x.service_id
        GROUP BY x.period_id, s.name, s.sort_order, s.id
        """,  # noqa: S608 - integer ids only
        [],
    )
    entry_k = kopecks_sum("e.amount")
    billed_kinds = "('charge', 'correction', 'recalculation')"
    by_provider = _fetch(
        f"""
        SELECT e.period_id, COALESCE(pv.name, 'Управляющая организация'), {entry_k}
        FROM billing_ledgerentry e LEFT JOIN registry_provider pv ON pv.id = e.provider_id
        WHERE e.period_id IN ({id_list}) AND e.kind IN {billed_kinds}
        GROUP BY e.period_id, COALESCE(pv.name, 'Управляющая организация')
        """,  # noqa: S608 - integer ids only
        [],
    )
    # Per account, from the months' materialized balances (the journal for an open month).
    by_account = _fetch(
        " UNION ALL ".join(
            f"SELECT m.account_id, {int(p.id)}, m.charged + m.recalcs "  # noqa: S608 - ids
            f"FROM ({reports.movement_sql([p])}) m"
            for p in [period, previous]
            if p is not None
        ),
        [],
    )
    services = _compare(
        (
            (pid, (sort or 0, sid or 0, name or "Без услуги"), k)
            for pid, name, sort, sid, k in by_service
        ),
        period.id,
    )
    providers = _compare(((pid, (0, 0, name), k) for pid, name, k in by_provider), period.id)
    totals: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for account_id, period_id, kopecks in by_account:
        totals[account_id][period_id] = from_kopecks(kopecks)
    active = list(
        PersonalAccount.objects.filter(organization_id=period.organization_id)
        .exclude(closed_on__lt=period.month)
        .values_list("id", flat=True)
    )
    changed_ids, nonpositive_ids = [], []
    for account_id in active:
        current = totals.get(account_id, {}).get(period.id, ZERO)
        before = totals.get(account_id, {}).get(previous.id, ZERO) if previous else ZERO
        if current <= 0:
            nonpositive_ids.append((account_id, before, current))
        elif before > 0 and abs(current - before) * 100 > share * before:
            changed_ids.append((account_id, before, current))
    changed_ids.sort(key=lambda t: -abs(t[2] - t[1]) / t[1])
    shown = changed_ids[:LIST_LIMIT] + nonpositive_ids[:LIST_LIMIT]
    accounts = PersonalAccount.objects.select_related("premises__building").in_bulk(
        [t[0] for t in shown]
    )
    run = last_run(period)
    top = [AccountLine(accounts[a], b, c) for a, b, c in changed_ids[:EXPLAIN_LIMIT]]
    why = accounts_explanations([line.account.id for line in top], period, previous) if top else {}
    return Review(
        previous_month=previous.month if previous else None,
        services=services,
        providers=providers,
        changed=[AccountLine(accounts[a], b, c) for a, b, c in changed_ids[:LIST_LIMIT]],
        changed_count=len(changed_ids),
        nonpositive=[AccountLine(accounts[a], b, c) for a, b, c in nonpositive_ids[:LIST_LIMIT]],
        nonpositive_count=len(nonpositive_ids),
        unbillable=list(run.report or [])[:LIST_LIMIT] if run else [],
        share=share,
        explained=[(line, why[line.account.id]) for line in top],
        totals={
            "previous": sum((s.previous for s in services), ZERO),
            "current": sum((s.current for s in services), ZERO),
        },
    )


def _compare(rows, current_id: int) -> list[Compared]:
    found: dict[tuple, Compared] = {}
    for period_id, key, kopecks in rows:
        line = found.setdefault(key, Compared(name=key[2], previous=ZERO, current=ZERO))
        if period_id == current_id:
            line.current += from_kopecks(kopecks)
        else:
            line.previous += from_kopecks(kopecks)
    return [found[k] for k in sorted(found)]


@dataclass
class ToIssue:
    """The figures a close issues: what the receipts of the month will show in total."""

    accounts: int
    charged: Decimal
    recalculations: Decimal
    penalties: Decimal
    paid: Decimal
    closing: Decimal
    debt: Decimal


def to_issue(period: Period) -> ToIssue:
    """From the balances the run materialized for the month (one query)."""
    rows = _fetch(
        f"""
        SELECT COUNT(*), SUM({as_kopecks("charges")}), SUM({as_kopecks("recalculations")}),
            SUM({as_kopecks("penalties")}), SUM({as_kopecks("payments")}),
            SUM({as_kopecks("closing")}),
            SUM(CASE WHEN closing > 0 THEN {as_kopecks("closing")} ELSE 0 END)
        FROM billing_accountbalance WHERE period_id = %s
        """,  # noqa: S608 - constant SQL
        [period.id],
    )
    count, charged, recalcs, penalties, paid, closing, debt = rows[0]
    return ToIssue(
        accounts=count or 0,
        charged=from_kopecks(charged),
        recalculations=from_kopecks(recalcs),
        penalties=from_kopecks(penalties),
        paid=from_kopecks(paid),
        closing=from_kopecks(closing),
        debt=from_kopecks(debt),
    )
