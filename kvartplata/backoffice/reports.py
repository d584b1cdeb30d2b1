"""The accountant's reports: оборотно-сальдовая ведомость, debtors, collections, readings.

Every report is a `Report`: columns and rows of plain values (text, Decimal roubles, int),
built by set-based queries (aggregates in SQL, money summed in whole kopecks, so SQLite's
float decimals give exact figures) and rendered as an HTML table, CSV or .xlsx by `exports`.
The money figures come from the journal (`billing_ledgerentry`) and the balances materialized
from it, so they reconcile with the ledger to the kopeck (tests).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from kvartplata.billing import ledger
from kvartplata.lib.db import as_kopecks, from_kopecks, kopecks_sum
from kvartplata.lib.periods import add_months, period_label
from kvartplata.registry.models import Period

ZERO = Decimal("0.00")
MONEY = "money"
TEXT = "text"
INT = "int"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = MONEY


@dataclass
class Report:
    title: str
    columns: list[Column]
    rows: list[tuple]
    totals: tuple | None = None
    notes: list[str] = field(default_factory=list)
    # When `rows` is one page of the report: the number of all its rows and the page's start.
    count: int | None = None
    offset: int = 0

    def column_sum(self, key: str) -> Decimal:
        at = [c.key for c in self.columns].index(key)
        return sum((r[at] for r in self.rows if r[at] is not None), ZERO)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _rub(kopecks) -> Decimal:
    return from_kopecks(kopecks or 0)


def _periods(organization_id: int, first: datetime.date, last: datetime.date) -> list[Period]:
    return list(
        Period.objects.filter(
            organization_id=organization_id, month__gte=first, month__lte=last
        ).order_by("month")
    )


def _ids(periods: list[Period]) -> str:
    # Integers from the database, never user input.
    return ", ".join(str(int(p.id)) for p in periods) or "NULL"


def _address(street, house, number) -> str:
    return f"{street}, д. {house}" + (f", кв. {number}" if number else "")


# --- balances and movement of accounts --------------------------------------------------------
# A billed or closed month's money per account is materialized in `billing_accountbalance` by
# the one write path of the journal (`ledger.refresh_balances`: at every run, every posting into
# a billed month and the close; a closed month never changes), so the reports read those rows —
# one per account and month — instead of summing the journal's entries again. The open month
# has no balances yet: its movement comes from the journal.


def _settled(periods: list[Period]) -> tuple[list[Period], list[Period]]:
    """The months with materialized balances (billed, closed) and the open one(s)."""
    settled = [p for p in periods if p.state != Period.State.OPEN]
    return settled, [p for p in periods if p.state == Period.State.OPEN]


def movement_sql(periods: list[Period]) -> str:
    """SQL of the accounts' movement in `periods`, whole kopecks: (account_id, charged, recalcs,
    penalties, paid); charged includes corrections, paid is positive. No parameters."""
    settled, unsettled = _settled(periods)
    parts = []
    if settled or not unsettled:
        parts.append(
            f"""SELECT account_id, {as_kopecks("charges")} AS charged,
                {as_kopecks("recalculations")} AS recalcs, {as_kopecks("penalties")} AS penalties,
                {as_kopecks("payments")} AS paid
            FROM billing_accountbalance WHERE period_id IN ({_ids(settled)})"""  # noqa: S608
        )
    if unsettled:
        parts.append(
            f"""SELECT e.account_id, {_SUMS} FROM billing_ledgerentry e
            WHERE e.period_id IN ({_ids(unsettled)}) GROUP BY e.account_id"""  # noqa: S608
        )
    if len(parts) == 1 and len(periods) <= 1:
        return parts[0]  # one row per account already
    return f"""SELECT account_id, SUM(charged) AS charged, SUM(recalcs) AS recalcs,
            SUM(penalties) AS penalties, SUM(paid) AS paid
        FROM ({" UNION ALL ".join(parts)}) mv GROUP BY account_id"""  # noqa: S608


def _closing(organization_id: int, month: datetime.date) -> str | None:
    """SQL of every account's balance at the end of `month` (account_id, k in kopecks; + debt,
    − advance), or None before the organization's first month. No parameters."""
    last_two = list(
        Period.objects.filter(organization_id=organization_id, month__lte=month).order_by("-month")[
            :2
        ]
    )
    if not last_two:
        return None
    period = last_two[0]
    if period.state != Period.State.OPEN:
        return _closing_balances(period)
    # The open month: the closing of the month before (closed, final) and the month's journal.
    parts = [
        f"""SELECT account_id, {as_kopecks("amount")} AS k FROM billing_ledgerentry
        WHERE period_id = {int(period.id)}"""  # noqa: S608 - an integer id
    ]
    if len(last_two) > 1:
        parts.append(_closing_balances(last_two[1]))
    return f"""SELECT account_id, SUM(k) AS k FROM ({" UNION ALL ".join(parts)}) cl
        GROUP BY account_id"""  # noqa: S608


def _closing_balances(period: Period) -> str:
    return f"""SELECT account_id, {as_kopecks("closing")} AS k FROM billing_accountbalance
        WHERE period_id = {int(period.id)}"""  # noqa: S608 - an integer id


# --- оборотно-сальдовая ведомость -------------------------------------------------------------

TURNOVER_BY = {
    "account": "по лицевым счетам",
    "building": "по домам",
    "provider": "по поставщикам",
    "service": "по услугам",
}
TURNOVER_MONEY = [
    Column("opening", "Сальдо на начало (+ долг, − аванс)"),
    Column("charged", "Начислено"),
    Column("recalculations", "Перерасчёты"),
    Column("penalties", "Пени"),
    Column("paid", "Оплачено"),
    Column("closing", "Сальдо на конец"),
]
_SUMS = """
    SUM(CASE WHEN e.kind IN ('charge', 'correction') THEN {k} ELSE 0 END) AS charged,
    SUM(CASE WHEN e.kind = 'recalculation' THEN {k} ELSE 0 END) AS recalcs,
    SUM(CASE WHEN e.kind = 'penalty' THEN {k} ELSE 0 END) AS penalties,
    SUM(CASE WHEN e.kind = 'payment' THEN -{k} ELSE 0 END) AS paid
""".format(k=as_kopecks("e.amount"))
_ACCOUNT_KEYS = (
    "a.id, a.number, a.holder_last_name, a.holder_first_name, a.holder_middle_name, "
    "b.street, b.house, pr.number"
)


def turnover(
    organization_id: int,
    first: datetime.date,
    last: datetime.date,
    by: str = "account",
    *,
    building_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Report:
    """Opening, charged, recalculations, penalties, paid and closing for months first…last.

    By account or building: the opening is the balance at the end of the month before `first`,
    the movement that of the months (materialized balances of billed and closed months, the
    journal of the open one). By provider: everything from the journal (the payee of each
    entry). By service: charges and recalculations only (payments and penalties are not kept by
    service). One query; by account with `limit`, one page of rows (from `offset`) and a second
    query for the totals and the number of rows.
    """
    periods = _periods(organization_id, first, last)
    title = f"Оборотно-сальдовая ведомость {TURNOVER_BY[by]} за {period_label(first)}" + (
        f" — {period_label(last)}" if last != first else ""
    )
    if by == "service":
        return _turnover_by_service(organization_id, periods, title)
    if by == "provider":
        return _turnover_by_provider(organization_id, periods, first, title)
    opening_sql = _closing(organization_id, add_months(first, -1))
    opening_join = f"LEFT JOIN ({opening_sql}) ob ON ob.account_id = a.id" if opening_sql else ""
    opening = "COALESCE(ob.k, 0)" if opening_sql else "0"
    money = [
        opening,
        "COALESCE(m.charged, 0)",
        "COALESCE(m.recalcs, 0)",
        "COALESCE(m.penalties, 0)",
        "COALESCE(m.paid, 0)",
    ]
    tables = f"""
        FROM registry_personalaccount a
        JOIN registry_premises pr ON pr.id = a.premises_id
        JOIN registry_building b ON b.id = pr.building_id
        {opening_join}
        LEFT JOIN ({movement_sql(periods)}) m ON m.account_id = a.id
        WHERE a.organization_id = %s{" AND b.id = %s" if building_id else ""}
    """  # noqa: S608 - only constant SQL and integer ids are formatted in
    params: list = [organization_id, *([building_id] if building_id else [])]
    if by == "account":
        sql = f"SELECT {_ACCOUNT_KEYS}, {', '.join(money)} {tables} ORDER BY a.number, a.id"
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
    else:
        keys = "b.id, b.street, b.house"
        sums = ", ".join(f"SUM({m})" for m in money)
        sql = f"SELECT {keys}, {sums} {tables} GROUP BY {keys} ORDER BY b.street, b.house, b.id"
    paged = by == "account" and limit is not None
    rows = []
    for row in _fetch(sql, params + ([limit, offset] if paged else [])):
        if by == "account":
            _id, number, last_name, first_name, middle, street, house, flat = row[:8]
            holder = f"{last_name} {first_name} {middle}".strip()
            label = [number, holder, _address(street, house, flat)]
            money_row = row[8:]
        else:
            _id, street, house = row[:3]
            label = [_address(street, house, "")]
            money_row = row[3:]
        rows.append(tuple(label) + _money_row(*money_row))
    if by == "account":
        columns = [Column("number", "Лицевой счёт", TEXT), Column("holder", "Абонент", TEXT)]
        columns.append(Column("address", "Адрес", TEXT))
    else:
        columns = [Column("building", "Дом", TEXT)]
    report = Report(title=title, columns=columns + TURNOVER_MONEY, rows=rows)
    if not paged:
        return _with_totals(report)
    sums = ", ".join(f"SUM({m})" for m in money)
    count, *totals = _fetch(f"SELECT COUNT(*), {sums} {tables}", params)[0]  # noqa: S608
    report.count, report.offset = count, offset
    report.totals = ("Итого", "", "") + _money_row(*totals)
    return report


def _money_row(opening, charged, recalcs, penalties, paid) -> tuple:
    closing = (opening or 0) + (charged or 0) + (recalcs or 0) + (penalties or 0) - (paid or 0)
    return tuple(_rub(v) for v in (opening, charged, recalcs, penalties, paid, closing))


def _with_totals(report: Report) -> Report:
    labels = sum(1 for c in report.columns if c.kind == TEXT)
    totals = ["Итого"] + [""] * (labels - 1)
    for column in report.columns[labels:]:
        totals.append(report.column_sum(column.key) if column.kind == MONEY else None)
    report.totals = tuple(totals)
    return report


def _turnover_by_provider(organization_id, periods, first, title) -> Report:
    """From the journal summed by month, payee and kind first (one pass over its entries, no
    join per entry), then by payee."""
    in_range = _ids(periods)
    sql = f"""
        SELECT x.provider_id, pv.name,
            SUM(CASE WHEN bp.month < %s THEN x.k ELSE 0 END),
            SUM(CASE WHEN x.period_id IN ({in_range}) AND x.kind IN ('charge', 'correction')
                THEN x.k ELSE 0 END),
            SUM(CASE WHEN x.period_id IN ({in_range}) AND x.kind = 'recalculation'
                THEN x.k ELSE 0 END),
            SUM(CASE WHEN x.period_id IN ({in_range}) AND x.kind = 'penalty'
                THEN x.k ELSE 0 END),
            SUM(CASE WHEN x.period_id IN ({in_range}) AND x.kind = 'payment'
                THEN -x.k ELSE 0 END)
        FROM (
            SELECT e.period_id, e.provider_id, e.kind, {kopecks_sum("e.amount")} AS k
            FROM billing_ledgerentry e
            WHERE e.period_id IN (
                SELECT id FROM billing_period WHERE organization_id = %s AND month <= %s)
            GROUP BY e.period_id, e.provider_id, e.kind
        ) x
        JOIN billing_period bp ON bp.id = x.period_id
        LEFT JOIN registry_provider pv ON pv.id = x.provider_id
        GROUP BY x.provider_id, pv.name
        ORDER BY pv.name
    """  # noqa: S608 - only constant SQL and integer ids are formatted in
    last = periods[-1].month if periods else first
    rows = [
        (name or "Управляющая организация",) + _money_row(*money)
        for _pid, name, *money in _fetch(sql, [first, organization_id, last])
    ]
    columns = [Column("provider", "Поставщик", TEXT), *TURNOVER_MONEY]
    return _with_totals(Report(title=title, columns=columns, rows=rows))


def _turnover_by_service(organization_id, periods, title) -> Report:
    sql = f"""
        SELECT s.id, s.name, SUM(x.charged), SUM(x.recalcs) FROM (
            SELECT c.service_id AS service_id, {kopecks_sum("c.amount")} AS charged, 0 AS recalcs
            FROM billing_charge c WHERE c.period_id IN ({_ids(periods)}) GROUP BY c.service_id
            UNION ALL
            SELECT r.service_id, 0, {kopecks_sum("r.amount")}
            FROM billing_recalculation r WHERE r.period_id IN ({_ids(periods)})
            GROUP BY r.service_id
        ) x LEFT JOIN billing_service s ON s.id = x.service_id
        GROUP BY s.id, s.name, s.sort_order
        ORDER BY s.sort_order, s.id
    """  # noqa: S608 - only constant SQL and integer ids are formatted in
    rows = [
        (name or "Без услуги", _rub(charged), _rub(recalcs))
        for _sid, name, charged, recalcs in _fetch(sql, [])
    ]
    report = Report(
        title=title,
        columns=[
            Column("service", "Услуга", TEXT),
            Column("charged", "Начислено"),
            Column("recalculations", "Перерасчёты"),
        ],
        rows=rows,
        notes=["Оплаты и пени по услугам не разносятся: они показаны в ведомости по поставщикам."],
    )
    return _with_totals(report)


# --- debtors ----------------------------------------------------------------------------------

AGING = [
    ("age_1", "1 мес.", 1, 1),
    ("age_2_3", "2–3 мес.", 2, 3),
    ("age_4_6", "4–6 мес.", 4, 6),
    ("age_7_12", "7–12 мес.", 7, 12),
    ("age_13", "более 12 мес.", 13, 10**6),
]


def age_bucket(debt_month: datetime.date | None, on_month: datetime.date) -> int:
    """Index into AGING of a debt of `debt_month` seen in `on_month` (its own month is 1)."""
    if debt_month is None:
        return 0
    age = (on_month.year - debt_month.year) * 12 + on_month.month - debt_month.month + 1
    return next(i for i, (_k, _l, low, high) in enumerate(AGING) if low <= max(age, 1) <= high)


def debtors(
    organization_id: int,
    on_month: datetime.date,
    *,
    min_debt: Decimal = ZERO,
    building_id: int | None = None,
) -> Report:
    """Accounts in debt at the end of `on_month`: their unpaid debts by age (the allocation
    rule's open debts of the journal up to that month), penalties accrued, the balance.

    Queries: the accounts in debt by their balance at the end of the month (1), their
    penalties (1) and their open debts (1), each per batch of 5 000 debtors.
    """
    closing = _closing(organization_id, on_month)
    found = []
    if closing is not None:
        sql = f"""
            SELECT a.id, a.number, a.holder_last_name, a.holder_first_name,
                a.holder_middle_name, b.street, b.house, pr.number, c.k
            FROM ({closing}) c
            JOIN registry_personalaccount a ON a.id = c.account_id
            JOIN registry_premises pr ON pr.id = a.premises_id
            JOIN registry_building b ON b.id = pr.building_id
            WHERE a.organization_id = %s AND c.k > 0 AND c.k >= %s
                {"AND b.id = %s" if building_id else ""}
            ORDER BY a.number, a.id
        """  # noqa: S608 - constant SQL
        params = [organization_id, int(min_debt * 100), *([building_id] if building_id else [])]
        found = _fetch(sql, params)
    ids = [row[0] for row in found]
    penalties = _penalties(organization_id, on_month, ids)
    debts = (
        ledger.organization_open_debts(organization_id, through_month=on_month, account_ids=ids)
        if ids
        else {}
    )
    rows = []
    for account_id, number, last_name, first_name, middle, street, house, flat, total in found:
        buckets = [ZERO] * len(AGING)
        for (month, _payee), amount in debts.get(account_id, {}).items():
            buckets[age_bucket(month, on_month)] += amount
        rows.append(
            (
                number,
                f"{last_name} {first_name} {middle}".strip(),
                _address(street, house, flat),
                *buckets,
                sum(buckets, ZERO),
                _rub(penalties.get(account_id)),
                _rub(total),
            )
        )
    columns = [
        Column("number", "Лицевой счёт", TEXT),
        Column("holder", "Абонент", TEXT),
        Column("address", "Адрес", TEXT),
        *(Column(key, f"Долг {label}") for key, label, _l, _h in AGING),
        Column("principal", "Основной долг"),
        Column("penalties", "Пени начислено"),
        Column("balance", "Сальдо с пенями"),
    ]
    title = f"Должники на {period_label(on_month)}"
    notes = ["Возраст долга — в месяцах от месяца, за который он начислен (текущий — 1 мес.)."]
    return _with_totals(Report(title=title, columns=columns, rows=rows, notes=notes))


def _penalties(organization_id: int, through: datetime.date, account_ids: list[int]) -> dict:
    """{account: penalties accrued up to the end of `through`, kopecks}: the billed and closed
    months' balances, the open month's journal. One query on PostgreSQL (the ids an array), one
    per batch of accounts on SQLite."""
    if not account_ids:
        return {}
    periods = list(
        Period.objects.filter(organization_id=organization_id, month__lte=through).order_by("month")
    )
    settled, unsettled = _settled(periods)
    found: dict[int, int] = defaultdict(int)
    if connection.vendor == "postgresql":
        batches = [("SELECT UNNEST(%s)", [list(account_ids)])]
    else:
        batches = [(", ".join(["%s"] * len(c)), list(c)) for c in ledger.chunks(account_ids)]
    for marks, ids in batches:
        parts, params = [], []
        if settled:
            parts.append(
                f"""SELECT account_id, {as_kopecks("penalties")} AS k FROM billing_accountbalance
                WHERE period_id IN ({_ids(settled)}) AND account_id IN ({marks})"""  # noqa: S608
            )
            params += ids
        if unsettled:
            parts.append(
                f"""SELECT account_id, {as_kopecks("amount")} AS k FROM billing_ledgerentry
                WHERE period_id IN ({_ids(unsettled)}) AND kind = 'penalty'
                    AND account_id IN ({marks})"""  # noqa: S608
            )
            params += ids
        union = " UNION ALL ".join(parts)
        sql = f"SELECT account_id, SUM(k) FROM ({union}) p GROUP BY account_id"  # noqa: S608
        for account_id, kopecks in _fetch(sql, params):
            found[account_id] += kopecks or 0
    return found


# --- collections ------------------------------------------------------------------------------


def collections(organization_id: int, first: datetime.date, last: datetime.date) -> Report:
    """Charged against paid by month (the balances of billed and closed months, the journal of
    the open one), with the share collected."""
    periods = _periods(organization_id, first, last)
    settled, unsettled = _settled(periods)
    parts = [
        f"""SELECT period_id, {kopecks_sum("(charges + recalculations + penalties)")} AS billed,
            {kopecks_sum("payments")} AS paid
        FROM billing_accountbalance WHERE period_id IN ({_ids(settled)}) GROUP BY period_id"""  # noqa: S608
    ]
    if unsettled:
        k = as_kopecks("e.amount")
        parts.append(
            f"""SELECT e.period_id, SUM(CASE WHEN e.kind <> 'payment' THEN {k} ELSE 0 END),
                SUM(CASE WHEN e.kind = 'payment' THEN -{k} ELSE 0 END)
            FROM billing_ledgerentry e WHERE e.period_id IN ({_ids(unsettled)})
            GROUP BY e.period_id"""  # noqa: S608
        )
    sql = f"""
        SELECT bp.month, SUM(x.billed), SUM(x.paid)
        FROM ({" UNION ALL ".join(parts)}) x JOIN billing_period bp ON bp.id = x.period_id
        GROUP BY bp.month ORDER BY bp.month
    """  # noqa: S608 - constant SQL and integer ids
    rows = []
    for month, billed, paid in _fetch(sql, []):
        total = _rub(billed)
        paid_rub = _rub(paid)
        share = (paid_rub * 100 / total).quantize(Decimal("0.1")) if total else None
        rows.append((period_label(_date(month)), total, paid_rub, share))
    columns = [
        Column("month", "Месяц", TEXT),
        Column("charged", "Начислено с перерасчётами и пенями"),
        Column("paid", "Оплачено"),
        Column("share", "Собираемость, %", INT),
    ]
    title = f"Собираемость за {period_label(first)} — {period_label(last)}"
    return _with_totals(Report(title=title, columns=columns, rows=rows))


def collections_by_bank(organization_id: int, first: datetime.date, last: datetime.date) -> Report:
    """Payments posted in the months by bank and day of payment (from the journal: a payment's
    entries summed first, then their payments joined for the bank)."""
    periods = _periods(organization_id, first, last)
    sql = f"""
        SELECT COALESCE(bk.name, 'Без банка'), x.entry_date, COUNT(x.source_id), SUM(x.k)
        FROM (
            SELECT e.source_id, e.entry_date, -{kopecks_sum("e.amount")} AS k
            FROM billing_ledgerentry e
            WHERE e.period_id IN ({_ids(periods)}) AND e.kind = 'payment'
            GROUP BY e.source_id, e.entry_date
        ) x
        LEFT JOIN payments_payment p ON p.id = x.source_id
        LEFT JOIN payments_bank bk ON bk.id = p.bank_id
        GROUP BY COALESCE(bk.name, 'Без банка'), x.entry_date
        ORDER BY 1, 2
    """  # noqa: S608 - constant SQL and integer ids
    rows = [
        (bank, _date(day).strftime("%d.%m.%Y"), count, _rub(paid))
        for bank, day, count, paid in _fetch(sql, [])
    ]
    columns = [
        Column("bank", "Банк", TEXT),
        Column("day", "День оплаты", TEXT),
        Column("count", "Платежей", INT),
        Column("paid", "Сумма"),
    ]
    title = f"Оплаты по банкам и дням за {period_label(first)} — {period_label(last)}"
    return _with_totals(Report(title=title, columns=columns, rows=rows))


def _date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


# --- readings ---------------------------------------------------------------------------------


def readings(organization_id: int, first: datetime.date, last: datetime.date) -> Report:
    """Per building and month: accounts with working flat meters, how many sent readings."""
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    sql = """
        SELECT b.id, b.street, b.house, COUNT(DISTINCT a.id)
        FROM meters_meter m
        JOIN registry_personalaccount a ON a.id = m.account_id
        JOIN registry_premises pr ON pr.id = a.premises_id
        JOIN registry_building b ON b.id = pr.building_id
        WHERE a.organization_id = %s AND m.scope = 'flat'
            AND m.installed_on < %s AND (m.archived_on IS NULL OR m.archived_on >= %s)
        GROUP BY b.id, b.street, b.house
    """
    sent_sql = """
        SELECT pr.building_id, r.month, COUNT(DISTINCT a.id)
        FROM meters_reading r
        JOIN meters_meter m ON m.id = r.meter_id
        JOIN registry_personalaccount a ON a.id = m.account_id
        JOIN registry_premises pr ON pr.id = a.premises_id
        WHERE a.organization_id = %s AND r.is_accepted AND r.month >= %s AND r.month <= %s
        GROUP BY pr.building_id, r.month
    """
    sent = defaultdict(int)
    for building_id, month, count in _fetch(sent_sql, [organization_id, first, last]):
        sent[(building_id, _date(month))] = count
    rows = []
    for month in months:
        for building_id, street, house, metered in sorted(
            _fetch(sql, [organization_id, add_months(month, 1), month]), key=lambda r: r[1:3]
        ):
            done = sent[(building_id, month)]
            rows.append(
                (
                    period_label(month),
                    _address(street, house, ""),
                    metered,
                    done,
                    max(metered - done, 0),
                )
            )
    columns = [
        Column("month", "Месяц", TEXT),
        Column("building", "Дом", TEXT),
        Column("metered", "ЛС с приборами", INT),
        Column("sent", "Передали показания", INT),
        Column("missing", "Не передали", INT),
    ]
    title = f"Передача показаний за {period_label(first)} — {period_label(last)}"
    return Report(title=title, columns=columns, rows=rows)


def rows_of(report: Report) -> Iterator[tuple]:
    """Header, rows and totals: what a download writes."""
    yield tuple(c.label for c in report.columns)
    yield from report.rows
    if report.totals:
        yield report.totals
