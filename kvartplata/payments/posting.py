"""Set-based posting of imported payments into the ledger: a few SQL statements per file.

The rows are those `ledger.post_payments` writes for the same payments (it stays the way to
post a payment matched by hand): per account, payments in order of (day, id), each pays the
month it names first, then the oldest unpaid month, and what is left is an advance
(concerns_month NULL); one entry per month paid.

How it is done in SQL, exactly, in integer kopecks:

1. Open debts per account and month, as `ledger.open_debts` computes them: the net of each month
   (penalties aside); an advance (the month-less net, and overpaid months from where they stand)
   pays later months oldest first. With c(m) the credit so far and d(m) the debt so far, the
   amount used up to month m is U(m) = d(m) + min(0, min over k ≤ m of (max(0, c(k)) − d(k))):
   running sums and a running minimum (window functions).
2. A payment that names an open month (other than the oldest, which is what oldest-first pays
   anyway) takes that month first. When it is the account's first payment of the file, its
   part goes to that month and the rest of it, and the later payments, go on oldest first;
   accounts where a later payment names a month are posted by `ledger.post_payments`.
3. Oldest first is an overlap of intervals: payment i covers (S(i−1), S(i)] of the account's
   running sum of payments, month m covers (T(m−1), T(m)] of the running sum of its debts; the
   part is the overlap, and what lies beyond the last debt is the advance.

In a billed period each account's balance moves by the sum of its new payments (`add_to_balances`).
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from kvartplata.billing import ledger
from kvartplata.billing.models import Period
from kvartplata.lib.db import as_kopecks

NEW = "payments_new"
DEBTS = "payments_debts"
NAMED = "payments_named"
LATER = "payments_later"
TOUCHED = "payments_touched"
TABLES = (NEW, DEBTS, NAMED, LATER, TOUCHED)


def _sql(postgres: str, sqlite: str) -> str:
    return postgres if connection.vendor == "postgresql" else sqlite


def _money(kopecks: str) -> str:
    return _sql(f"CAST({kopecks} AS numeric) / 100", f"({kopecks}) / 100.0")


def _least(a: str, b: str) -> str:
    return _sql(f"LEAST({a}, {b})", f"MIN({a}, {b})")


def _greatest(a: str, b: str) -> str:
    return _sql(f"GREATEST({a}, {b})", f"MAX({a}, {b})")


def _temp(cursor, name: str, select: str, params=()) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    drop = _sql(" ON COMMIT DROP", "")
    cursor.execute(f"CREATE TEMP TABLE {name}{drop} AS {select}", params)  # noqa: S608
    cursor.execute(f"ANALYZE {name}")  # temporary tables get no statistics otherwise


def post_imported(period: Period, *, file_id: int, after_id: int) -> list[int]:
    """Post the matched payments a file just added (ids above `after_id`); in a billed period
    add them to the balances.

    Returns the accounts posted to.
    """
    with connection.cursor() as cursor:
        _new_payments(cursor, file_id, after_id)
        cursor.execute(f"SELECT count(*) FROM {NEW}")  # noqa: S608
        if not cursor.fetchone()[0]:
            _drop(cursor)
            return []
        _open_debts(cursor)
        named = _named(cursor)
        _post_oldest_first(cursor, period, named)
        _post_later_named(cursor, period)
        cursor.execute(f"SELECT account_id FROM {TOUCHED} ORDER BY account_id")  # noqa: S608
        touched = [row[0] for row in cursor.fetchall()]
        if period.state == Period.State.BILLED:
            add_to_balances(cursor, period)
        _drop(cursor)
    return touched


def _drop(cursor) -> None:
    for name in TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _new_payments(cursor, file_id: int, after_id: int) -> None:
    """The file's matched payments, numbered per account in posting order (day, id), with the
    running sum of the account's payments up to each (s)."""
    tz = settings.TIME_ZONE  # the registry's times are the organization's local time
    paid_on = "CAST(paid_at AT TIME ZONE %s AS date)"
    params = [tz, after_id, file_id]
    if connection.vendor != "postgresql":
        offset = _one_offset(cursor, tz, file_id, after_id)
        if offset is not None:  # SQLite's own arithmetic when the offset is the same throughout
            paid_on, params = "date(paid_at, %s)", [f"{offset:+d} seconds", after_id, file_id]
        else:  # Django's function, as for a __date lookup
            paid_on = "django_datetime_cast_date(paid_at, %s, %s)"
            params = [tz, connection.timezone_name, after_id, file_id]
    _temp(
        cursor,
        NEW,
        f"""
        SELECT id, account_id, kop, paid_on, for_month, ROW_NUMBER() OVER w AS rn,
            CAST(SUM(kop) OVER w AS bigint) AS s
        FROM (
            SELECT id, account_id, {as_kopecks("amount")} AS kop, {paid_on} AS paid_on, for_month
            FROM payments_payment
            WHERE id > %s AND file_id = %s AND account_id IS NOT NULL
        ) p
        WINDOW w AS (PARTITION BY account_id ORDER BY paid_on, id ROWS UNBOUNDED PRECEDING)
        """,  # noqa: S608 -- table names and SQL fragments are constants; values are parameters
        params,
    )


def _one_offset(cursor, tz: str, file_id: int, after_id: int) -> int | None:
    """The UTC offset in seconds of `tz`, if it is the same over the file's payment times."""
    cursor.execute(
        "SELECT MIN(paid_at), MAX(paid_at) FROM payments_payment WHERE id > %s AND file_id = %s",
        [after_id, file_id],
    )
    low, high = cursor.fetchone()
    if low is None:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    start = datetime.datetime.fromisoformat(str(low)[:13] + ":00").replace(tzinfo=datetime.UTC)
    end = datetime.datetime.fromisoformat(str(high)[:13] + ":00").replace(tzinfo=datetime.UTC)
    if end - start > datetime.timedelta(days=93):
        return None
    offsets = set()
    moment = start
    while moment <= end + datetime.timedelta(hours=1):
        offsets.add(moment.astimezone(zone).utcoffset())
        moment += datetime.timedelta(hours=1)
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def _open_debts(cursor) -> None:
    """Unpaid kopecks per (account, month) of the accounts paid to, as ledger.open_debts.

    One window pass per account in month order, the month-less net (the advance) first: it and
    every overpaid month are credit, the other months debt.
    """
    _temp(cursor, TOUCHED, f"SELECT DISTINCT account_id FROM {NEW}")  # noqa: S608
    zero_floor = _greatest("0", "c")
    window = "PARTITION BY account_id ORDER BY month NULLS FIRST ROWS UNBOUNDED PRECEDING"
    _temp(
        cursor,
        DEBTS,
        f"""
        WITH net AS (
            SELECT account_id, concerns_month AS month,
                CAST(SUM({as_kopecks("amount")}) AS bigint) AS net
            FROM billing_ledgerentry
            WHERE kind <> 'penalty' AND account_id IN (SELECT account_id FROM {TOUCHED})
            GROUP BY account_id, concerns_month
        ), sums AS (
            SELECT account_id, month, net,
                CAST(SUM(CASE WHEN month IS NULL OR net <= 0 THEN -net ELSE 0 END) OVER w
                    AS bigint) AS c,
                CAST(SUM(CASE WHEN month IS NOT NULL AND net > 0 THEN net ELSE 0 END) OVER w
                    AS bigint) AS d
            FROM net
            WINDOW w AS ({window})
        ), used AS (
            SELECT account_id, month, net,
                d + {_least("0", f"MIN({zero_floor} - d) OVER w")} AS used
            FROM sums
            WINDOW w AS ({window})
        ), unpaid AS (
            SELECT account_id, month, net,
                net - used + COALESCE(LAG(used) OVER (
                    PARTITION BY account_id ORDER BY month NULLS FIRST), 0) AS unpaid
            FROM used
        )
        SELECT account_id, month, unpaid,
            CASE WHEN month = MIN(month) OVER (PARTITION BY account_id) THEN 1 ELSE 0 END
                AS oldest
        FROM unpaid
        WHERE month IS NOT NULL AND net > 0 AND unpaid > 0
        """,  # noqa: S608
    )


def _named(cursor) -> bool:
    """Payments naming an open month other than the oldest: the first of an account is done
    here (NAMED: its part of that month); accounts with a later one go line by line (LATER)."""
    cursor.execute(f"SELECT 1 FROM {NEW} WHERE for_month IS NOT NULL LIMIT 1")  # noqa: S608
    named = cursor.fetchone() is not None
    where = "" if named else "WHERE false"
    _temp(
        cursor,
        LATER,
        f"""
        SELECT DISTINCT p.account_id
        FROM {NEW} p
        JOIN {DEBTS} d ON d.account_id = p.account_id AND d.month = p.for_month AND d.oldest = 0
        {where} {"AND" if where else "WHERE"} p.rn > 1
        """,  # noqa: S608
    )
    _temp(
        cursor,
        NAMED,
        f"""
        SELECT p.id, p.account_id, p.paid_on, d.month, {_least("p.kop", "d.unpaid")} AS x
        FROM {NEW} p
        JOIN {DEBTS} d ON d.account_id = p.account_id AND d.month = p.for_month AND d.oldest = 0
        {where} {"AND" if where else "WHERE"} p.rn = 1
            AND p.account_id NOT IN (SELECT account_id FROM {LATER})
        """,  # noqa: S608
    )
    return named


ENTRY_COLUMNS = (
    "account_id, period_id, concerns_month, kind, amount, entry_date, source_id, note, created_at"
)


def _post_oldest_first(cursor, period: Period, named: bool) -> None:
    if named:  # the named part of an account's first payment comes off its sums and its month
        pay = f"""
            SELECT p.id, p.account_id, p.paid_on,
                p.kop - CASE WHEN p.rn = 1 THEN COALESCE(n.x, 0) ELSE 0 END AS kop,
                p.s - COALESCE(n.x, 0) AS s
            FROM {NEW} p
            LEFT JOIN {NAMED} n ON n.account_id = p.account_id
            WHERE p.account_id NOT IN (SELECT account_id FROM {LATER})
        """  # noqa: S608
        unpaid = "d.unpaid - COALESCE(n.x, 0)"
        named_join = f"LEFT JOIN {NAMED} n ON n.account_id = d.account_id AND n.month = d.month"
        named_parts = f"SELECT id, account_id, paid_on, month, x FROM {NAMED} UNION ALL"  # noqa: S608
    else:
        pay = f"SELECT id, account_id, paid_on, kop, s FROM {NEW}"  # noqa: S608
        unpaid, named_join, named_parts = "d.unpaid", "", ""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    cursor.execute(
        f"""
        INSERT INTO billing_ledgerentry ({ENTRY_COLUMNS})
        WITH debt AS (
            SELECT d.account_id, d.month, {unpaid} AS u,
                CAST(SUM({unpaid}) OVER (
                    PARTITION BY d.account_id ORDER BY d.month ROWS UNBOUNDED PRECEDING
                ) AS bigint) AS t
            FROM {DEBTS} d
            {named_join}
        ), total AS (
            SELECT account_id, MAX(t) AS t FROM debt GROUP BY account_id
        ), parts (id, account_id, paid_on, month, part) AS (
            {named_parts}
            SELECT pay.id, pay.account_id, pay.paid_on, debt.month,
                {_least("pay.s", "debt.t")} - {_greatest("pay.s - pay.kop", "debt.t - debt.u")}
            FROM ({pay}) pay
            JOIN debt ON debt.account_id = pay.account_id
                AND pay.s - pay.kop < debt.t AND debt.t - debt.u < pay.s
            UNION ALL
            SELECT pay.id, pay.account_id, pay.paid_on, NULL,
                pay.s - {_greatest("pay.s - pay.kop", "COALESCE(total.t, 0)")}
            FROM ({pay}) pay
            LEFT JOIN total ON total.account_id = pay.account_id
            WHERE pay.s > COALESCE(total.t, 0)
        )
        SELECT account_id, %s, month, 'payment', -{_money("part")}, paid_on, id, '', %s
        FROM parts
        WHERE part > 0
        """,  # noqa: S608
        [period.id, now],
    )


def _post_later_named(cursor, period: Period) -> None:
    """Accounts where a later payment names a month: ledger.post_payments, as by hand."""
    cursor.execute(
        f"""
        SELECT id, account_id, kop, paid_on, for_month FROM {NEW}
        WHERE account_id IN (SELECT account_id FROM {LATER})
        """  # noqa: S608
    )
    posts = [
        {
            "id": payment_id,
            "account_id": account_id,
            "amount": Decimal(kop).scaleb(-2),
            "paid_on": _date(paid_on),
            "for_month": _date(for_month),
        }
        for payment_id, account_id, kop, paid_on, for_month in cursor.fetchall()
    ]
    if posts:
        ledger.post_payments(period, posts)


def _date(value):
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


def add_to_balances(cursor, period: Period) -> None:
    """Add the file's payments to the materialized money movement of the period.

    Balances equal the journal (the invariant every posting keeps), and an account's new entries
    add up to its new payments whatever months they went to: so the payments and the closing of
    its balance move by that sum. An account without a balance row in the billed period gets one
    from the journal (`ledger.refresh_balances`).
    """
    cursor.execute(
        f"""
        UPDATE billing_accountbalance SET
            payments = payments + {_money("p.paid")}, closing = closing - {_money("p.paid")}
        FROM (SELECT account_id, MAX(s) AS paid FROM {NEW} GROUP BY account_id) p
        WHERE billing_accountbalance.period_id = %s
            AND billing_accountbalance.account_id = p.account_id
        """,  # noqa: S608
        [period.id],
    )
    cursor.execute(
        f"""
        SELECT t.account_id FROM {TOUCHED} t
        WHERE NOT EXISTS (
            SELECT 1 FROM billing_accountbalance b
            WHERE b.period_id = %s AND b.account_id = t.account_id
        )
        ORDER BY t.account_id
        """,  # noqa: S608
        [period.id],
    )
    missing = [row[0] for row in cursor.fetchall()]
    if missing:
        ledger.refresh_balances(period, missing)
