"""Read-side queries of billing for the cabinet: balances, services, charges, movement, charts.

Every function makes a fixed number of queries whatever the length of an account's history, so
the pages that use them stay bounded. Closed months come from the materialized balances; the
current month (open or billed) is computed from the journal, so it is always up to date.
"""

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Q

from kvartplata.billing import explain, ledger
from kvartplata.billing.bill_change import Explanation, explanation
from kvartplata.billing.models import (
    AccountBalance,
    Charge,
    LedgerEntry,
    Recalculation,
    Service,
    Tariff,
    Zone,
)
from kvartplata.lib.db import Select
from kvartplata.lib.periods import add_months
from kvartplata.meters.models import Meter
from kvartplata.payments.models import Payment
from kvartplata.receipts.models import Receipt
from kvartplata.registry.models import Period, PersonalAccount, Provider

ZERO = Decimal("0.00")


# --- periods ----------------------------------------------------------------------------------


_PERIODS = Select.of(Period, "organization_id = %s", "month")


def organization_periods(organization_id: int) -> list[Period]:
    """All billing months of an organization, oldest first (one row a month: a short list)."""
    return _PERIODS.instances([organization_id])


_SERVICE_FIELDS = Service._meta.concrete_fields
_PROVIDER_FIELDS = Provider._meta.concrete_fields
_COLUMNS = ", ".join(
    [f"s.{f.column}" for f in _SERVICE_FIELDS] + [f"p.{f.column}" for f in _PROVIDER_FIELDS]
)
_SERVICES_SQL = (
    f"SELECT {_COLUMNS} FROM {Service._meta.db_table} s JOIN {Provider._meta.db_table} p "  # noqa: S608
    "ON p.id = s.provider_id WHERE s.organization_id = %s ORDER BY s.sort_order, s.id"
)
_SERVICES = Select(_SERVICES_SQL, [*_SERVICE_FIELDS, *_PROVIDER_FIELDS])


def organization_service_rows(organization_id: int) -> list[tuple]:
    """The organization's services joined with their providers, as rows (every column of both)."""
    return _SERVICES.rows([organization_id])


def services_of(rows: list[tuple]) -> dict[int, Service]:
    """Services with their providers, by id, from `organization_service_rows`."""
    services = {}
    n = len(_SERVICE_FIELDS)
    service_names = [f.attname for f in _SERVICE_FIELDS]
    provider_names = [f.attname for f in _PROVIDER_FIELDS]
    for row in rows:
        service = Service.from_db(connection.alias, service_names, row[:n])
        service.provider = Provider.from_db(connection.alias, provider_names, row[n:])
        services[service.id] = service
    return services


def organization_services(organization_id: int) -> dict[int, Service]:
    """The organization's services with their providers, by id, in the order of the receipt."""
    return services_of(organization_service_rows(organization_id))


def current_of(periods: list[Period]) -> Period | None:
    """The month not closed yet (open or billed), if any."""
    return next((p for p in reversed(periods) if p.state != Period.State.CLOSED), None)


def last_billed_of(periods: list[Period]) -> Period | None:
    """The latest month whose charges are computed (billed or closed) — staff's view."""
    return next((p for p in reversed(periods) if p.state != Period.State.OPEN), None)


def is_issued(period: Period) -> bool:
    """A month reaches residents once it is closed: its receipts are issued at the close."""
    return period.state == Period.State.CLOSED


def last_issued_of(periods: list[Period]) -> Period | None:
    """The latest month whose receipts are issued: what residents are shown as «the» month.

    The one filter every resident page goes through. Charges, recalculations, penalties and
    balances of a month not closed yet (run, rerun, reviewed) stay with the staff until the
    close; payments are the resident's own facts and show as they arrive.
    """
    return next((p for p in reversed(periods) if is_issued(p)), None)


def issued_of(periods: list[Period]) -> list[Period]:
    """The months residents may see computed figures of, oldest first."""
    return [p for p in periods if is_issued(p)]


# --- money movement ---------------------------------------------------------------------------


@dataclass
class PaymentLine:
    """A payment received in a month: one bank operation, whatever months it was allocated to."""

    date: datetime.date
    amount: Decimal
    channel: str
    payment_id: int | None


@dataclass
class MonthMovement:
    """Money movement of an account in one month («оборотно-сальдовая ведомость» line)."""

    period: Period
    opening: Decimal = ZERO
    charges: Decimal = ZERO
    recalculations: Decimal = ZERO
    penalties: Decimal = ZERO
    payments: Decimal = ZERO
    closing: Decimal = ZERO
    payment_lines: list[PaymentLine] = field(default_factory=list)
    live: bool = False

    @property
    def month(self) -> datetime.date:
        return self.period.month

    @property
    def charged(self) -> Decimal:
        """Everything that raised the debt this month: charges, recalculations, penalties."""
        return self.charges + self.recalculations + self.penalties


@dataclass
class Movement:
    months: list[MonthMovement]
    opening: Decimal
    charges: Decimal
    recalculations: Decimal
    penalties: Decimal
    payments: Decimal
    closing: Decimal

    @property
    def adds_up(self) -> bool:
        return (
            self.opening + self.charges + self.recalculations + self.penalties - self.payments
            == self.closing
        )


def _live_month(
    account_id: int, period: Period, opening: Decimal, *, issued: bool = True
) -> MonthMovement:
    """The not-closed month from the journal: previous closing + this month's entries.

    With ``issued`` (the resident's view) only the payments count: the month's charges,
    recalculations and penalties are not issued before the close.
    """
    sums = ledger.movement(period, [account_id]).get(account_id, {})
    computed = not issued
    row = MonthMovement(
        period=period,
        opening=opening,
        charges=sums.get("charge", ZERO) + sums.get("correction", ZERO) if computed else ZERO,
        recalculations=sums.get("recalculation", ZERO) if computed else ZERO,
        penalties=sums.get("penalty", ZERO) if computed else ZERO,
        payments=-sums.get("payment", ZERO),
        live=True,
    )
    row.closing = row.opening + row.charges + row.recalculations + row.penalties - row.payments
    return row


_BALANCES = Select.of(AccountBalance, "account_id = %s AND month >= %s AND month <= %s")


def money_movement(
    account: PersonalAccount,
    periods: list[Period],
    first: datetime.date,
    last: datetime.date,
    *,
    with_payments: bool = True,
    issued: bool = True,
) -> Movement:
    """Month-by-month movement from `first` to `last` (months), with the payments of each month.

    With ``issued`` (residents) the month not closed yet shows its payments only; without it
    (staff) it shows what the run computed too.
    Queries: balances (1), the journal of the current month (1) and, with payments, the payment
    entries and their channels (2).
    """
    chosen = [p for p in periods if first <= p.month <= last]
    current = current_of(periods)
    # The month before the range gives the opening balance of the first month.
    balances = {b.month: b for b in _BALANCES.instances([account.id, add_months(first, -1), last])}
    months: list[MonthMovement] = []
    before = balances.get(add_months(first, -1))
    carried = before.closing if before else ZERO
    for period in chosen:
        if current is not None and period.id == current.id:
            row = _live_month(account.id, period, carried, issued=issued)
        else:
            b = balances.get(period.month)
            if b is None:  # nothing happened on the account that month
                row = MonthMovement(period=period, opening=carried, closing=carried)
            else:
                row = MonthMovement(
                    period=period,
                    opening=b.opening,
                    charges=b.charges,
                    recalculations=b.recalculations,
                    penalties=b.penalties,
                    payments=b.payments,
                    closing=b.closing,
                )
        months.append(row)
        carried = row.closing
    if with_payments and months:
        _attach_payments(account.id, months)
    opening = months[0].opening if months else carried
    total = Movement(
        months=months,
        opening=opening,
        charges=sum((m.charges for m in months), ZERO),
        recalculations=sum((m.recalculations for m in months), ZERO),
        penalties=sum((m.penalties for m in months), ZERO),
        payments=sum((m.payments for m in months), ZERO),
        closing=months[-1].closing if months else carried,
    )
    return total


_PAYMENT_ENTRIES = Select(
    "SELECT e.period_id, e.source_id, e.entry_date, e.amount, p.channel"
    " FROM billing_ledgerentry e LEFT JOIN payments_payment p"
    " ON p.id = e.source_id AND p.account_id = e.account_id"
    " WHERE e.account_id = %s AND e.kind = %s AND e.period_id IN ({periods})",
    [
        None,
        None,
        LedgerEntry._meta.get_field("entry_date"),
        LedgerEntry._meta.get_field("amount"),
        None,
    ],
)


def _attach_payments(account_id: int, months: list[MonthMovement]) -> None:
    period_rows = {m.period.id: m for m in months}
    grouped: dict[tuple[int, int | None, datetime.date], Decimal] = defaultdict(lambda: ZERO)
    channels: dict[int, str] = {}
    for period_id, source_id, day, amount, channel in _PAYMENT_ENTRIES.rows(
        [account_id, LedgerEntry.Kind.PAYMENT, *period_rows], periods=len(period_rows)
    ):
        # One payment split over several months is one line for the resident.
        grouped[(period_id, source_id, day)] += -amount
        if channel:
            channels[source_id] = channel
    labels = dict(Payment.Channel.choices)
    for (period_id, source_id, day), amount in sorted(grouped.items(), key=lambda kv: kv[0][2]):
        channel = channels.get(source_id)
        period_rows[period_id].payment_lines.append(
            PaymentLine(
                date=day,
                amount=amount,
                channel=str(labels.get(channel, "—")) if channel else "—",
                payment_id=source_id,
            )
        )


# --- account card -----------------------------------------------------------------------------


@dataclass
class AccountState:
    """The financial state of an account now (R4), as issued to the resident."""

    balance: Decimal  # + debt, − overpayment: the last issued receipt less payments since
    amount_due: Decimal
    due_month: datetime.date | None  # the month of the last issued receipt
    due_date: datetime.date | None
    last_payment: Payment | None
    overdue: bool
    receipt_amount: Decimal | None = None  # what that receipt asked for (its closing balance)

    @property
    def is_debt(self) -> bool:
        return self.balance > 0

    @property
    def is_overpayment(self) -> bool:
        return self.balance < 0

    @property
    def balance_abs(self) -> Decimal:
        return abs(self.balance)


_ISSUED_CLOSING = Select(
    "SELECT closing FROM billing_accountbalance WHERE account_id = %s AND month <= %s"
    " ORDER BY month DESC LIMIT 1",
    [AccountBalance._meta.get_field("closing")],
)
_LAST_PAYMENT = Select.of(
    Payment, "account_id = %s AND status = %s", "paid_at DESC, id DESC LIMIT 1"
)


def account_state(
    account: PersonalAccount, periods: list[Period], *, today: datetime.date
) -> AccountState:
    """Debt or overpayment now, what to pay by which date, the last payment.

    Only issued months count: the balance is the closing balance of the last issued month
    (its receipt's amount) less the payments received since; a run of the open month changes
    nothing here until the month is closed. The amount due (never below zero) is due on the
    organization's day after the last issued month.
    Queries: 1 for the issued balance, 1 for the payments since, 1 for the last payment.
    """
    issued = last_issued_of(periods)
    receipt_amount = None
    if issued is not None:
        found = _ISSUED_CLOSING.rows([account.id, issued.month])
        receipt_amount = found[0][0] if found else None
    balance = receipt_amount or ZERO
    current = current_of(periods)
    if current is not None:
        balance = _live_month(account.id, current, balance, issued=True).closing
    due_date = ledger.due_date(account.organization, issued.month) if issued else None
    amount_due = max(balance, ZERO)
    found = _LAST_PAYMENT.instances([account.id, Payment.Status.MATCHED])
    last_payment = found[0] if found else None
    return AccountState(
        balance=balance,
        amount_due=amount_due,
        due_month=issued.month if issued else None,
        due_date=due_date,
        last_payment=last_payment,
        overdue=bool(due_date and amount_due > 0 and today > due_date),
        receipt_amount=receipt_amount if issued is not None else None,
    )


# --- services and tariffs ---------------------------------------------------------------------


@dataclass
class TariffLine:
    zone: int
    zone_label: str
    price: Decimal
    valid_from: datetime.date
    basis: str


@dataclass
class ServiceRow:
    service: Service
    tariffs: list[TariffLine]
    how: str  # how the volume is determined, for this account
    common_house: bool


def account_services(account: PersonalAccount, *, today: datetime.date) -> list[ServiceRow]:
    """The periodic services of the account's organization, tariffs in force on `today` (R5).

    Queries: services with providers (1), their tariffs (1), the flat's working meters (1).
    """
    services = list(
        Service.objects.filter(organization_id=account.organization_id, is_active=True)
        .select_related("provider")
        .order_by("sort_order", "id")
    )
    in_force: dict[tuple[int, int], Tariff] = {}
    for t in (
        Tariff.objects.filter(service__in=services, valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .order_by("valid_from")
    ):
        in_force[(t.service_id, t.zone)] = t  # the latest start wins
    metered = set(
        Meter.objects.filter(account_id=account.id, scope=Meter.Scope.FLAT)
        .filter(Q(archived_on__isnull=True) | Q(archived_on__gt=today))
        .values_list("resource", flat=True)
    )
    zone_labels = dict(Zone.choices)
    rows = []
    for service in services:
        zones = [0] if service.zones == 1 else list(range(1, service.zones + 1))
        tariffs = [
            TariffLine(
                zone=z,
                zone_label=str(zone_labels[z]) if service.zones > 1 else "",
                price=in_force[(service.id, z)].price,
                valid_from=in_force[(service.id, z)].valid_from,
                basis=in_force[(service.id, z)].basis,
            )
            for z in zones
            if (service.id, z) in in_force
        ]
        rows.append(
            ServiceRow(
                service=service,
                tariffs=tariffs,
                how=_how(service, metered),
                common_house=service.has_common_house,
            )
        )
    return rows


def _how(service: Service, metered: set[str]) -> str:
    method = Service.Method
    if service.method == method.METER:
        if service.resource in metered:
            return "по прибору учёта"
        if service.meter_installable:
            return "по нормативу с повышающим коэффициентом (прибор учёта не установлен)"
        return "по нормативу (прибор учёта не установлен)"
    return {
        method.AREA: "по площади помещения",
        method.PERSON: "по числу проживающих",
        method.HEATING: "по нормативу на площадь",
        method.WASTEWATER: "сумма объёмов холодной и горячей воды",
    }.get(service.method, str(service.get_method_display()))


# --- charges of a month -----------------------------------------------------------------------


@dataclass
class ServiceCharges:
    """Everything charged for one service in a month: lines, recalculations, totals (R6)."""

    service: Service | None
    lines: list[Charge] = field(default_factory=list)
    common_lines: list[Charge] = field(default_factory=list)
    recalculations: list[Recalculation] = field(default_factory=list)

    @property
    def base(self) -> Decimal:
        return sum((c.amount for c in self.lines + self.common_lines), ZERO)

    @property
    def recalculated(self) -> Decimal:
        return sum((r.amount for r in self.recalculations), ZERO)

    @property
    def adjusted(self) -> Decimal:
        return self.base + self.recalculated


@dataclass
class MonthCharges:
    period: Period
    services: list[ServiceCharges]
    penalties: Decimal

    @property
    def base(self) -> Decimal:
        return sum((s.base for s in self.services), ZERO)

    @property
    def recalculated(self) -> Decimal:
        return sum((s.recalculated for s in self.services), ZERO)

    @property
    def adjusted(self) -> Decimal:
        return self.base + self.recalculated

    @property
    def total(self) -> Decimal:
        return self.adjusted + self.penalties


_CHARGES = Select.of(Charge, "account_id = %s AND period_id = %s")
_RECALCULATIONS = Select.of(
    Recalculation, "account_id = %s AND period_id = %s", "concerns_month, id"
)
_MONTH_ENTRIES = Select(
    "SELECT kind, amount FROM billing_ledgerentry WHERE account_id = %s AND period_id = %s",
    [None, LedgerEntry._meta.get_field("amount")],
)


def month_charges(
    account: PersonalAccount, period: Period, services: dict[int, Service] | None = None
) -> MonthCharges:
    """Charge lines of a month by service, with the recalculations booked in it.

    ``services``: the organization's services by id (``organization_services``), when the page
    has them already. Queries: charges (1), recalculations (1), penalties (1), the services
    unless given (1), meters and their states for the explanations (2).
    """
    if services is None:
        services = organization_services(account.organization_id)
    charges = _CHARGES.instances([account.id, period.id])
    recalculations = _RECALCULATIONS.instances([account.id, period.id])
    for line in charges:
        line.service = services[line.service_id]
    for r in recalculations:
        if r.service_id is not None:
            r.service = services[r.service_id]
    charges.sort(key=lambda c: (c.service.sort_order, c.service_id, c.kind, c.zone))
    explain.attach(charges, account, period)
    groups: dict[int | None, ServiceCharges] = {}
    for c in charges:
        group = groups.setdefault(c.service_id, ServiceCharges(service=c.service))
        if c.kind == Charge.Kind.COMMON_HOUSE:
            group.common_lines.append(c)
        else:
            group.lines.append(c)
    for r in recalculations:
        group = groups.setdefault(r.service_id, ServiceCharges(service=r.service))
        group.recalculations.append(r)
    ordered = sorted(
        groups.values(),
        key=lambda g: (
            g.service is None,
            g.service.sort_order if g.service else 0,
            g.service.id if g.service else 0,
        ),
    )
    # Filtering by kind in SQL lets SQLite pick the (period, kind) index and scan the whole
    # month; an account has a handful of entries a month, so filter them here instead.
    penalties = sum(
        (
            amount
            for kind, amount in _MONTH_ENTRIES.rows([account.id, period.id])
            if kind == LedgerEntry.Kind.PENALTY
        ),
        ZERO,
    )
    return MonthCharges(period=period, services=ordered, penalties=penalties)


# --- charts -----------------------------------------------------------------------------------


@dataclass
class ConsumptionSeries:
    name: str
    unit: str
    values: dict[datetime.date, Decimal]


def consumption_by_month(
    account: PersonalAccount, first: datetime.date, last: datetime.date
) -> list[ConsumptionSeries]:
    """Individual volumes of metered resources per month (all zones together). One query."""
    series: dict[int, ConsumptionSeries] = {}
    for service_id, name, unit, month, volume in (
        Charge.objects.filter(
            # The periods by a subquery: the unique index (period, account, …) then serves.
            period__in=Period.objects.filter(
                organization_id=account.organization_id, month__gte=first, month__lte=last
            ).values("id"),
            account_id=account.id,
            kind=Charge.Kind.INDIVIDUAL,
        )
        .exclude(service__resource="")
        .order_by("service__sort_order", "service_id")
        .values_list("service_id", "service__name", "service__unit", "period__month", "volume")
    ):
        s = series.setdefault(service_id, ConsumptionSeries(name=name, unit=unit, values={}))
        s.values[month] = s.values.get(month, Decimal(0)) + volume
    return list(series.values())


# --- why the bill changed ---------------------------------------------------------------------

# The explanation the month's receipt froze at the close (``Receipt.data["change"]``), read
# alone: the rest of the snapshot stays in the database.
_CHANGE_COLUMN = (
    "data -> 'change'" if connection.vendor == "postgresql" else "json_extract(data, '$.change')"
)
_RECEIPT_CHANGE = Select(
    f"SELECT {_CHANGE_COLUMN} FROM {Receipt._meta.db_table}"  # noqa: S608 - fixed identifiers
    " WHERE account_id = %s AND period_id = %s",
    [None],
)


def bill_change(
    account_id: int, periods: list[Period], period: Period | None
) -> Explanation | None:
    """Why the bill of the issued month `period` differs from the previous issued month's.

    As the month's receipt froze it at the close (one query): what the resident reads never
    moves afterwards, even when a meter's verification date is corrected later. Months whose
    receipts predate the frozen explanation (or were closed without receipts) are explained
    from the stored facts by the same rule (`billing.bill_change.explanation`, five queries).
    """
    if period is None or not is_issued(period):
        return None
    rows = _RECEIPT_CHANGE.rows([account_id, period.id])
    block = rows[0][0] if rows else None
    frozen = json.loads(block) if isinstance(block, str) else block
    return explanation(account_id, periods, period, frozen=frozen)
