"""The billing run in SQL: a few INSERT … SELECT statements per service for all accounts at once.

This is the only production implementation of the volume rules it applies; each is checked
against its specification in `kvartplata.billing.calc` by differential tests on random worlds
(`billing/tests/test_setbased.py`), on SQLite and PostgreSQL. Every quantity is an integer in
SQL, so the figures are exact on SQLite (which keeps decimals as binary floats) as on
PostgreSQL: volumes in millionths («micro»), areas in hundredths of m², tariffs in 1/10 000 ₽,
amounts in kopecks, each rounded half-up exactly where `calc` rounds — a line's volume to its
unit's billing precision before it is priced. Metered services: by readings (several meters of a
resource add up, a meter billed for the first time starts from its last or initial reading, a
counter past its maximum rolls over by its digit capacity), by the average, by the norm (× the
resource's increasing coefficient where it applies); late readings spread over the estimated
months and recalculate them. What cannot be applied (no norm, a reading that went back, a meter
whose zones do not match the tariffs) is returned per account for the run's report and not
billed; nothing is billed twice.
"""

import datetime
from decimal import Decimal

from django.db import connection

from kvartplata.billing.calc.volumes import (
    AVERAGE_MAX_PERIODS,
    AVERAGE_MIN_MONTHS_NEWER_METER,
    AVERAGE_MONTHS,
)
from kvartplata.billing.models import (
    HISTORY_SLOTS,
    MAX_ZONES,
    Charge,
    Norm,
    Service,
    history_column,
)
from kvartplata.lib.periods import add_months
from kvartplata.registry.models import Period

MICRO = 1_000_000
# A flat's area on a share of the premises, in 0,01 m², rounded half-up (share in 1/10 000).
AREA_CENTS = (
    "((CAST(ROUND(p.total_area * 100) AS BIGINT) * CAST(ROUND(a.share * 10000) AS BIGINT)"
    " + 5000) / 10000)"
)
# Wastewater follows the water's plain volumes: by the norm, never «with the coefficient».
METHOD_RANK_SQL = "CASE c.method WHEN 'meter' THEN 0 WHEN 'average' THEN 1 ELSE 2 END"
RANK_METHOD_SQL = "CASE MAX(x.rank) WHEN 0 THEN 'meter' WHEN 1 THEN 'average' ELSE 'norm' END"
CHARGE_COLUMNS = [
    "account_id",
    "period_id",
    "service_id",
    "kind",
    "zone",
    "method",
    "volume",
    "tariff",
    "norm",
    "coefficient",
    "amount",
    "details",
    "run_id",
]
CHARGE_FIELDS = ", ".join(CHARGE_COLUMNS)
# Lines are gathered in a temporary table and written into billing_charge once, in the order of
# its unique key: one pass over that index instead of one per service.
LINES = "run_lines"
CHARGE_INSERT = f"INSERT INTO {LINES} ({CHARGE_FIELDS}) "
STATE_COLUMNS = (
    ["period_id", "meter_id", "account_id", "method", "gap", "hn"]
    + [f"r{z}" for z in range(1, MAX_ZONES + 1)]
    + [f"e{z}" for z in range(1, MAX_ZONES + 1)]
    + [history_column(z, k) for z in range(1, MAX_ZONES + 1) for k in range(1, HISTORY_SLOTS + 1)]
)


def micro(value: Decimal | None) -> int | None:
    return None if value is None else int((value * MICRO).to_integral_value())


def from_micro(value: int | None) -> Decimal:
    return Decimal(0) if value is None else Decimal(value) / MICRO


def units(value: Decimal, scale: int) -> int:
    """An exact decimal as an integer number of 1/scale (a tariff in 1/10 000 ₽…)."""
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more places than 1/{scale}")
    return int(scaled)


def kopecks(volume_micro: str, tariff_e4: int) -> str:
    """SQL: volume (micro) × tariff (1/10 000 ₽) → ₽ as a decimal, rounded half-up to kopecks."""
    return f"(({volume_micro}) * {tariff_e4} + 50000000) / 100000000 / 100.0"


def half_up(numerator: str, denominator: str) -> str:
    """SQL: a non-negative integer quotient rounded half-up."""
    return f"((2 * ({numerator}) + ({denominator})) / (2 * ({denominator})))"


def billed(volume_micro: str, places: int) -> str:
    """SQL: a non-negative volume (micro) rounded half-up to the billing precision (`calc`)."""
    step = 10 ** (6 - places)
    if step == 1:
        return f"({volume_micro})"
    return f"((({volume_micro}) + {step // 2}) / {step} * {step})"


def execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def json_text(expression: str) -> str:
    """SQL: a text expression written into a JSON column."""
    return f"CAST({expression} AS jsonb)" if connection.vendor == "postgresql" else expression


def temp_table(name: str, columns: str) -> None:
    drop_temp(name)
    execute(f"CREATE TEMP TABLE {name} ({columns})")


def drop_temp(name: str) -> None:
    prefix = "" if connection.vendor == "postgresql" else "temp."
    execute(f"DROP TABLE IF EXISTS {prefix}{name}")


def analyze(name: str) -> None:
    # PostgreSQL never analyzes temporary tables by itself: without statistics it may pick
    # nested loops over a hundred thousand rows.
    if connection.vendor == "postgresql":
        execute(f"ANALYZE {name}")


class SetBased:
    """The SQL side of one billing run of one period."""

    def __init__(self, context, run_id, *, gap_tariff, reason):
        self.gap_tariff = gap_tariff  # (service, zone, month) → the tariff of a past month
        self.reason = reason  # (service, month) → why a late-readings recalculation was made
        self.c = context
        self.period_id = context.period.id
        self.run_id = run_id
        previous = context.previous_period
        self.prev_id = previous.id if previous else None

    # --- parameters ------------------------------------------------------------------------

    def prepare(self) -> None:
        """The run's accounts and each building's norms, in temporary tables."""
        c = self.c
        temp_table(
            "run_acc",
            "id BIGINT PRIMARY KEY, building_id BIGINT NOT NULL, area_c BIGINT NOT NULL, "
            "residents BIGINT NOT NULL",
        )
        execute(
            f"""
            INSERT INTO run_acc (id, building_id, area_c, residents)
            SELECT a.id, p.building_id, {AREA_CENTS}, a.residents
            FROM registry_personalaccount a JOIN registry_premises p ON p.id = a.premises_id
            WHERE a.organization_id = %s AND a.opened_on <= %s
                AND (a.closed_on IS NULL OR a.closed_on >= %s)
            """,  # noqa: S608 - a constant expression
            [c.organization.id, c.end, c.month],
        )
        temp_table(
            "run_norm",
            "building_id BIGINT NOT NULL, service_id BIGINT NOT NULL, person_e6 BIGINT, "
            "area_e6 BIGINT, common_e6 BIGINT, PRIMARY KEY (building_id, service_id)",
        )
        rows = []
        for building_id in c.buildings:
            for service in c.services:
                values = [
                    micro(c.norm(service, kind, building_id))
                    for kind in (Norm.Kind.PER_PERSON, Norm.Kind.PER_AREA, Norm.Kind.COMMON_AREA)
                ]
                if any(v is not None for v in values):
                    rows.append((building_id, service.id, *values))
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO run_norm VALUES (%s, %s, %s, %s, %s)",
                    rows,
                )
        analyze("run_acc")
        analyze("run_norm")
        # Fresh tables (a new world, a big import) have no statistics yet: the plans below
        # would go by guesses of one row. Sampling keeps this cheap.
        if connection.vendor == "postgresql":
            for (table,) in fetch(
                "SELECT relname FROM pg_stat_user_tables WHERE relname IN "
                "('meters_meter', 'meters_reading', 'billing_meterstate') "
                "AND last_analyze IS NULL AND last_autoanalyze IS NULL"
            ):
                analyze(table)
        temp_table(
            LINES,
            "account_id BIGINT, period_id BIGINT, service_id BIGINT, kind VARCHAR(20), "
            "zone SMALLINT, method VARCHAR(20), volume NUMERIC(18, 6), tariff NUMERIC(12, 4), "
            "norm NUMERIC(18, 6), coefficient NUMERIC(5, 2), amount NUMERIC(14, 2), details TEXT, "
            "run_id BIGINT, plain NUMERIC(18, 6)",
        )
        temp_table(
            "run_recalc",
            "account_id BIGINT, service_id BIGINT, concerns_month DATE, kopecks BIGINT, "
            "reason VARCHAR(255)",
        )

    def flush(self) -> int:
        """Write the gathered lines into billing_charge in key order; returns their number."""
        fields = CHARGE_FIELDS.replace("details", json_text("details"))
        return execute(
            f"INSERT INTO billing_charge ({CHARGE_FIELDS}) SELECT {fields} FROM {LINES} "
            "ORDER BY account_id, service_id, kind, zone"
        )

    def finish(self) -> None:
        for name in ("run_acc", "run_norm", "run_m", "run_ch", "run_gp", "run_recalc", LINES):
            drop_temp(name)

    # --- metered services ------------------------------------------------------------------

    def meter_filter(self, alias: str) -> str:
        return (
            f"{alias}.scope = 'flat' AND {alias}.resource = %s AND {alias}.installed_on <= %s "
            f"AND ({alias}.archived_on IS NULL OR {alias}.archived_on >= %s)"
        )

    def metered(self, service, tariffs: list[Decimal], zones: list[int], coefficient: Decimal):
        """Lines and meter states of one metered service for every account of the run.

        Per meter: by readings (a counter that passed its maximum rolls over by its digit
        capacity), else by the average of the last months (at most 3 periods in a row), else
        the account is billed by the norm — × `coefficient` when one of its meters is broken or
        unverified (ПП 354 пп. 59, 60). Several meters of a resource in a flat add up; a meter
        billed for the first time starts from its last accepted reading, or its initial one.
        Returns [(account, problem)] of what could not be billed or used, for the run's report.
        """
        c = self.c
        nz = service.zones
        places = service.places
        resource = service.resource
        meter_params = [resource, c.end, c.month]
        valid = (
            "1"
            if resource == "electricity"
            else "CASE WHEN m.next_verification_on >= %s THEN 1 ELSE 0 END"
        )
        valid_params = [] if resource == "electricity" else [c.month]
        capacity = (
            "CASE m.digits "
            + " ".join(f"WHEN {d} THEN {10**d * MICRO}" for d in range(1, 13))
            + " ELSE NULL END"
        )
        current = ", ".join(
            f"CAST(ROUND(COALESCE(r.value{z}, 0) * {MICRO}) AS BIGINT) AS c{z}"
            for z in range(1, nz + 1)
        )
        # A meter without a state (billed here for the first time) starts from its last
        # accepted reading before the month, or from its initial reading.
        previous_params = []
        previous_parts = []
        for z in range(1, nz + 1):
            previous_parts.append(
                f"COALESCE(ps.r{z}, (SELECT CAST(ROUND(r0.value{z} * {MICRO}) AS BIGINT) "
                "FROM meters_reading r0 WHERE r0.meter_id = m.id AND r0.month < %s "
                "AND r0.is_accepted = %s ORDER BY r0.month DESC LIMIT 1), "
                f"CAST(ROUND(COALESCE(m.initial_value{z}, 0) * {MICRO}) AS BIGINT)) AS p_r{z}"
            )
            previous_params += [c.month, True]
        history = ", ".join(
            f"ps.{history_column(z, k)} AS p_{history_column(z, k)}"
            for z in range(1, nz + 1)
            for k in range(1, HISTORY_SLOTS + 1)
        )
        used = ", ".join(
            f"CASE WHEN q.c{z} >= q.p_r{z} THEN q.c{z} - q.p_r{z} "
            f"WHEN q.cap IS NOT NULL AND q.p_r{z} < q.cap AND q.c{z} < q.cap "
            f"THEN q.cap - q.p_r{z} + q.c{z} ELSE NULL END AS used{z}"
            for z in range(1, nz + 1)
        )
        usable = " AND ".join(f"u.used{z} IS NOT NULL" for z in range(1, nz + 1))
        per_account = "OVER (PARTITION BY x.account_id)"
        drop_temp("run_m")
        execute(
            f"""
            CREATE TEMP TABLE run_m AS
            SELECT x.*, COUNT(*) {per_account} AS n,
                MIN(CASE WHEN x.cls0 = 'norm' THEN x.valid ELSE 1 END) {per_account} AS all_valid,
                CASE WHEN MAX(CASE WHEN x.cls0 = 'zones' THEN 1 ELSE 0 END) {per_account} = 1
                    THEN 'zones'
                WHEN MAX(CASE WHEN x.cls0 = 'norm' THEN 1 ELSE 0 END) {per_account} = 1
                    THEN CASE WHEN x.norm_e6 IS NULL THEN 'nonorm' ELSE 'norm' END
                ELSE x.cls0 END AS cls
            FROM (
                SELECT u.*, CASE
                    WHEN u.zones <> {nz} THEN 'zones'
                    WHEN u.has_reading = 1 AND u.valid = 1 AND {usable} THEN 'meter'
                    WHEN u.p_gap < {AVERAGE_MAX_PERIODS}
                        AND u.p_hn >= CASE WHEN u.newer = 1 THEN {AVERAGE_MIN_MONTHS_NEWER_METER}
                            ELSE {AVERAGE_MONTHS} END
                        THEN 'average'
                    ELSE 'norm' END AS cls0,
                    CASE WHEN u.has_reading = 1 AND u.valid = 1 AND NOT ({usable}) THEN 1
                        ELSE 0 END AS back
                FROM (SELECT q.*, {used} FROM (
                    SELECT m.id AS meter_id, m.account_id AS account_id, m.zones AS zones,
                        m.serial_number AS serial, {valid} AS valid,
                        CASE WHEN m.installed_on > %s THEN 1 ELSE 0 END AS newer,
                        {capacity} AS cap,
                        CASE WHEN r.id IS NULL THEN 0 ELSE 1 END AS has_reading,
                        COALESCE(ps.gap, 0) AS p_gap, COALESCE(ps.hn, 0) AS p_hn,
                        {current}, {", ".join(previous_parts)}, {history},
                        nb.person_e6 AS norm_e6, a.residents AS residents
                    FROM meters_meter m
                    JOIN run_acc a ON a.id = m.account_id
                    LEFT JOIN meters_reading r
                        ON r.meter_id = m.id AND r.month = %s AND r.is_accepted = %s
                    LEFT JOIN billing_meterstate ps ON ps.period_id = %s AND ps.meter_id = m.id
                    LEFT JOIN run_norm nb
                        ON nb.building_id = a.building_id AND nb.service_id = %s
                    WHERE {self.meter_filter("m")}
                ) q) u
            ) x
            """,  # noqa: S608 - column lists are generated from constants
            [
                *valid_params,
                c.month - datetime.timedelta(days=183),
                *previous_params,
                c.month,
                True,
                self.prev_id,
                service.id,
                *meter_params,
            ],
        )
        analyze("run_m")
        self._states(nz, places, coefficient)
        self.late_recalculations(service, nz, places)
        self._meter_lines(service, tariffs, zones)
        self._meter_norm_lines(service, coefficient)
        problems = [
            (a, "число тарифных зон прибора учёта не совпадает с тарифами услуги")
            for (a,) in fetch("SELECT DISTINCT account_id FROM run_m WHERE cls = 'zones'")
        ]
        problems += [
            (a, f"показание прибора № {serial} меньше предыдущего: не учтено")
            for a, serial in fetch(
                "SELECT account_id, serial FROM run_m WHERE back = 1 ORDER BY account_id, serial"
            )
        ]
        problems += [
            (a, "нет норматива потребления")
            for (a,) in fetch("SELECT DISTINCT account_id FROM run_m WHERE cls = 'nonorm'")
        ]
        return problems + self._no_meter_lines(service, coefficient)

    @staticmethod
    def norm_volume(coefficient: Decimal, places: int, valid: str, alias: str = "") -> str:
        """SQL: the norm volume of an account (micro) at billing precision, × the coefficient
        when `valid` (an SQL expression) is 0; nobody registered counts as one (п. 56(2))."""
        base = f"({alias}norm_e6 * CASE WHEN {alias}residents > 1 THEN {alias}residents ELSE 1 END)"
        if coefficient == 1:
            return billed(base, places)
        coef_e2 = units(coefficient, 100)
        with_coef = half_up(f"{base} * {coef_e2}", "100")
        return (
            f"CASE WHEN {valid} = 0 THEN {billed(with_coef, places)} "
            f"ELSE {billed(base, places)} END"
        )

    def _states(self, nz: int, places: int, coefficient: Decimal) -> None:
        norm = self.norm_volume(coefficient, places, "all_valid")
        # By readings: the consumption since the last reading used is spread evenly over the
        # months billed by an estimate since (p_gap of them) and this one (ПП 354 п. 61).
        n = "(p_gap + 1)"
        columns = ["period_id", "meter_id", "account_id", "method", "gap", "hn"]
        values = [
            str(self.period_id),
            "meter_id",
            "account_id",
            "cls",
            "CASE WHEN cls = 'meter' THEN 0 ELSE p_gap + 1 END",
            f"CASE WHEN cls <> 'meter' THEN p_hn WHEN p_hn + {n} < {HISTORY_SLOTS} "
            f"THEN p_hn + {n} ELSE {HISTORY_SLOTS} END",
        ]
        for z in range(1, nz + 1):
            hist_sum = " + ".join(
                f"COALESCE(p_{history_column(z, k)}, 0)" for k in range(1, HISTORY_SLOTS + 1)
            )
            share, current = self.share(z, places), self.current(z, places)
            columns += [f"r{z}", f"e{z}"]
            values += [
                f"CASE WHEN cls = 'meter' THEN c{z} ELSE p_r{z} END",
                f"CASE cls WHEN 'meter' THEN {current} "
                f"WHEN 'average' THEN {billed(half_up(hist_sum, 'p_hn'), places)} "
                f"ELSE {billed(half_up(norm, f'(n * {nz})'), places)} END",
            ]
            for k in range(1, HISTORY_SLOTS + 1):
                if k == HISTORY_SLOTS:
                    shifted = current
                else:
                    older = " ".join(
                        f"WHEN {j} THEN p_{history_column(z, k + j + 1)}"
                        for j in range(0, HISTORY_SLOTS - k)
                    )
                    shifted = (
                        f"CASE WHEN p_gap >= {HISTORY_SLOTS - k} THEN {share} "
                        f"ELSE CASE p_gap {older} ELSE NULL END END"
                    )
                columns.append(history_column(z, k))
                values.append(
                    f"CASE WHEN cls = 'meter' THEN {shifted} ELSE p_{history_column(z, k)} END"
                )
        execute(
            f"INSERT INTO billing_meterstate ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM run_m "  # noqa: S608
            "WHERE cls IN ('meter', 'average', 'norm')"
        )

    @staticmethod
    def share(z: int, places: int) -> str:
        """SQL: a month's share of the consumption since the last reading used (run_m row)."""
        return billed(half_up(f"used{z}", "(p_gap + 1)"), places)

    @classmethod
    def current(cls, z: int, places: int) -> str:
        """SQL: this month's volume by readings, less the shares of the estimated months."""
        rest = f"(used{z} - {cls.share(z, places)} * p_gap)"
        return f"CASE WHEN {rest} > 0 THEN {billed(rest, places)} ELSE 0 END"

    def late_recalculations(self, service, nz: int, places: int) -> None:
        """Each month billed by an estimate gets the difference to its share at its own tariff."""
        c = self.c
        longest = fetch("SELECT MAX(p_gap) FROM run_m WHERE cls = 'meter'")[0][0] or 0
        if not longest:
            return

        periods = {
            p.month: p.id
            for p in Period.objects.filter(
                organization=c.organization,
                month__gte=add_months(c.month, -longest),
                month__lt=c.month,
            )
        }
        zone_list = [0] if nz == 1 else list(range(1, nz + 1))
        rows = []
        for back in range(1, longest + 1):
            month = add_months(c.month, -back)
            if month not in periods:
                continue
            tariffs = [units(self.gap_tariff(service, z, month), 10000) for z in zone_list]
            tariffs += [0] * (MAX_ZONES - len(tariffs))
            rows.append((periods[month], back, month, *tariffs, self.reason(service, month)[:255]))
        temp_table(
            "run_gp",
            "period_id BIGINT, back BIGINT, month DATE, t1 BIGINT, t2 BIGINT, t3 BIGINT, "
            "reason VARCHAR(255)",
        )
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO run_gp VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        delta = " + ".join(
            f"({self.share(z, places)} - g.e{z}) * gp.t{z}" for z in range(1, nz + 1)
        )
        execute(
            f"""
            INSERT INTO run_recalc (account_id, service_id, concerns_month, kopecks, reason)
            SELECT y.account_id, %s, y.month, y.kopecks, y.reason FROM (
                SELECT x.account_id, x.month, x.reason,
                    CASE WHEN x.d >= 0 THEN (x.d + 50000000) / 100000000
                    ELSE -((50000000 - x.d) / 100000000) END AS kopecks
                FROM (
                    SELECT m.account_id, gp.month, gp.reason, CAST(SUM({delta}) AS BIGINT) AS d
                    FROM run_m m
                    CROSS JOIN run_gp gp
                    CROSS JOIN billing_meterstate g
                    WHERE m.cls = 'meter' AND m.p_gap > 0 AND gp.back <= m.p_gap
                        AND g.period_id = gp.period_id AND g.meter_id = m.meter_id
                    GROUP BY m.account_id, gp.month, gp.reason
                ) x
            ) y WHERE y.kopecks <> 0
            """,  # noqa: S608 - constants and integers only
            [service.id],
        )

    def save_recalculations(self) -> int:
        """The run's automatic recalculations and their ledger entries, replacing earlier ones."""
        now = datetime.datetime.now(datetime.UTC)
        if connection.vendor == "sqlite":
            now = now.replace(tzinfo=None)
        count = execute(
            """
            INSERT INTO billing_recalculation (account_id, period_id, concerns_month, service_id,
                volume, amount, reason, source, created_by_id, created_at)
            SELECT account_id, %s, concerns_month, service_id, NULL, kopecks / 100.0, reason,
                'late_readings', NULL, %s
            FROM run_recalc ORDER BY account_id, service_id, concerns_month
            """,
            [self.period_id, now],
        )
        execute(
            """
            INSERT INTO billing_ledgerentry (account_id, period_id, concerns_month, kind, amount,
                entry_date, source_id, note, created_at)
            SELECT r.account_id, r.period_id, r.concerns_month, 'recalculation', r.amount, %s,
                r.id, r.reason, %s
            FROM billing_recalculation r WHERE r.period_id = %s AND r.source = 'late_readings'
            """,
            [self.c.month, now, self.period_id],
        )
        return count

    def _meter_lines(self, service, tariffs: list[Decimal], zones: list[int]) -> None:
        """One line per account and zone: the sum over its meters billed by readings/average."""
        for i, zone in enumerate(zones):
            tariff_e4 = units(tariffs[i], 10000)
            e = f"CAST(SUM(s.e{i + 1}) AS BIGINT)"
            execute(
                CHARGE_INSERT
                + f"""
                SELECT m.account_id, %s, %s, 'individual', {zone},
                    CASE MAX(CASE m.cls WHEN 'meter' THEN 0 ELSE 1 END) WHEN 0 THEN 'meter'
                        ELSE 'average' END,
                    {e} / {float(MICRO)!r}, %s, NULL, NULL, {kopecks(e, tariff_e4)}, '{{}}', %s
                FROM run_m m JOIN billing_meterstate s
                    ON s.period_id = %s AND s.meter_id = m.meter_id
                WHERE m.cls IN ('meter', 'average')
                GROUP BY m.account_id
                """,  # noqa: S608 - constants and integers only
                [self.period_id, service.id, tariffs[i], self.run_id, self.period_id],
            )

    def _norm_select(self, service, coefficient, *, valid, source, source_params, where):
        """SQL of norm lines (one per account, zone 0) from `source` with residents and norm_e6.

        `valid` is an SQL expression over the source, 0 where the coefficient applies. The
        line's `plain` volume, without the coefficient, is what enters formula 12 and
        wastewater: the coefficient raises the payment, not the consumption.
        """
        places = service.places
        tariff = self.c.tariff(service, 0)
        tariff_e4 = units(tariff, 10000)
        if coefficient == 1:
            valid = "1"
        volume = self.norm_volume(coefficient, places, valid, "x.")
        plain = self.norm_volume(Decimal(1), places, "1", "x.")
        sql = (
            f"INSERT INTO {LINES} ({CHARGE_FIELDS}, plain) "
            + f"""
            SELECT x.account_id, %s, %s, 'individual', 0,
                CASE WHEN x.valid = 0 THEN 'norm_coefficient' ELSE 'norm' END,
                x.vol / {float(MICRO)!r}, %s, x.norm_e6 / {float(MICRO)!r},
                CASE WHEN x.valid = 0 THEN %s ELSE NULL END,
                {kopecks("x.vol", tariff_e4)}, '{{}}', %s, x.plain / {float(MICRO)!r}
            FROM (SELECT x.*, {valid} AS valid, {volume} AS vol, {plain} AS plain
                FROM ({source}) x WHERE {where}) x
            """  # noqa: S608 - constants only
        )
        return sql, [self.period_id, service.id, tariff, coefficient, self.run_id, *source_params]

    def _meter_norm_lines(self, service, coefficient) -> None:
        sql, params = self._norm_select(
            service,
            coefficient,
            valid="x.all_valid",
            source="SELECT account_id, MIN(all_valid) AS all_valid, MAX(residents) AS residents, "
            "MAX(norm_e6) AS norm_e6 FROM run_m WHERE cls = 'norm' GROUP BY account_id",
            source_params=[],
            where="1 = 1",
        )
        execute(sql, params)

    def _no_meter_lines(self, service, coefficient) -> list[tuple[int, str]]:
        """Norm lines of the accounts without a meter of the resource; those with no norm left."""
        c = self.c
        source = f"""
            SELECT a.id AS account_id, a.residents AS residents, nb.person_e6 AS norm_e6
            FROM run_acc a
            LEFT JOIN run_norm nb ON nb.building_id = a.building_id AND nb.service_id = %s
            WHERE NOT EXISTS (SELECT 1 FROM meters_meter m WHERE m.account_id = a.id
                AND {self.meter_filter("m")})
        """  # noqa: S608
        source_params = [service.id, service.resource, c.end, c.month]
        sql, params = self._norm_select(
            service,
            coefficient,
            valid="0" if service.meter_installable else "1",
            source=source,
            source_params=source_params,
            where="x.norm_e6 IS NOT NULL",
        )
        execute(sql, params)
        missing = fetch(
            f"SELECT x.account_id FROM ({source}) x WHERE x.norm_e6 IS NULL",  # noqa: S608
            source_params,
        )
        return [(a, "нет норматива потребления") for (a,) in missing]

    # --- by area, per person, heating, wastewater --------------------------------------------

    def flat_rate(self, service, tariff: Decimal) -> int:
        """A line per account for a service billed by area or per person."""
        if service.method == Service.Method.AREA:
            # the area in 0,01 m² × the tariff in 1/10 000 ₽ → kopecks: ÷ 10 000, half-up
            volume, scale, method = "a.area_c", 100, Charge.Method.AREA
        else:
            volume, scale, method = "a.residents", 1, Charge.Method.PERSON
        tariff_e4 = units(tariff, 10000)
        divisor = scale * 100
        return execute(
            CHARGE_INSERT
            + f"""
            SELECT a.id, %s, %s, 'individual', 0, %s, {volume} / {float(scale)!r}, %s, NULL, NULL,
                ({volume} * {tariff_e4} + {divisor // 2}) / {divisor} / 100.0, '{{}}', %s
            FROM run_acc a
            """,
            [self.period_id, service.id, method, tariff, self.run_id],
        )

    def heating(self, service, tariff: Decimal) -> list[tuple[int, str]]:
        """Heating by the norm per m² × the flat's area; the accounts with no norm are reported."""
        tariff_e4 = units(tariff, 10000)
        # norm (6 places) × area (2 places), half-up to the billing precision (Gcal: 4 places).
        volume = billed("((nb.area_e6 * a.area_c + 50) / 100)", service.places)
        execute(
            CHARGE_INSERT
            + f"""
            SELECT a.id, %s, %s, 'individual', 0, 'norm', {volume} / {float(MICRO)!r}, %s,
                nb.area_e6 / {float(MICRO)!r}, NULL, {kopecks(volume, tariff_e4)}, '{{}}', %s
            FROM run_acc a
            JOIN run_norm nb ON nb.building_id = a.building_id AND nb.service_id = %s
            WHERE nb.area_e6 IS NOT NULL
            """,  # noqa: S608 - constants only
            [self.period_id, service.id, tariff, self.run_id, service.id],
        )
        rows = fetch(
            """SELECT a.id FROM run_acc a
            LEFT JOIN run_norm nb ON nb.building_id = a.building_id AND nb.service_id = %s
            WHERE nb.area_e6 IS NULL ORDER BY a.id""",
            [service.id],
        )
        return [(a, "нет норматива отопления") for (a,) in rows]

    def wastewater(self, service, tariff: Decimal, water_service_ids: list[int]) -> None:
        """Wastewater = cold + hot water of the month, for every account that has either."""
        if not water_service_ids:
            return
        tariff_e4 = units(tariff, 10000)
        total = billed("CAST(SUM(x.vol) AS BIGINT)", service.places)
        placeholders = ", ".join(["%s"] * len(water_service_ids))
        execute(
            CHARGE_INSERT
            + f"""
            SELECT x.account_id, %s, %s, 'individual', 0, {RANK_METHOD_SQL},
                {total} / {float(MICRO)!r}, %s, NULL, NULL,
                {kopecks(total, tariff_e4)}, '{{}}', %s
            FROM (
                SELECT c.account_id,
                    CAST(ROUND(COALESCE(c.plain, c.volume) * {MICRO}) AS BIGINT) AS vol,
                    {METHOD_RANK_SQL} AS rank
                FROM run_lines c
                WHERE c.period_id = %s AND c.kind = 'individual'
                    AND c.service_id IN ({placeholders})
            ) x
            GROUP BY x.account_id
            """,  # noqa: S608 - constants and placeholders only
            [self.period_id, service.id, tariff, self.run_id, self.period_id, *water_service_ids],
        )

    # --- common-house needs ----------------------------------------------------------------

    def individual_by_building(self, service) -> dict[int, Decimal]:
        """Σ of the flats' individual volumes of a service per building, this month.

        The plain volumes: a norm line's coefficient raises its payment, not the consumption
        that formula 12 takes from the building's volume.
        """
        rows = fetch(
            f"""
            SELECT a.building_id, SUM(CAST(ROUND(COALESCE(c.plain, c.volume) * {MICRO}) AS BIGINT))
            FROM run_lines c JOIN run_acc a ON a.id = c.account_id
            WHERE c.period_id = %s AND c.service_id = %s AND c.kind = 'individual'
            GROUP BY a.building_id
            """,  # noqa: S608 - a constant
            [self.period_id, service.id],
        )
        return {b: Decimal(int(v)) / MICRO for b, v in rows}

    def common_house(self, service, tariff: Decimal, buildings: list[tuple]) -> int:
        """ОДН lines; `buildings`: (building, method, common_e6, norm_num, total_c, norm, details).

        With a building meter the flat's share is common × S_flat / S_total (formula 12), capped
        by the norm's share when `cap`; without, norm × S_common × S_flat / S_total (formula 15).
        `norm_num` is norm (micro) × S_common (0,01 m²).
        """
        if not buildings:
            return 0
        temp_table(
            "run_ch",
            "building_id BIGINT PRIMARY KEY, method VARCHAR(20), common_e6 BIGINT, "
            "norm_num BIGINT, total_c BIGINT, norm_e6 BIGINT, details TEXT",
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO run_ch VALUES (%s, %s, %s, %s, %s, %s, %s)", buildings)
        analyze("run_ch")
        tariff_e4 = units(tariff, 10000)
        by_meter = half_up("b.common_e6 * a.area_c", "b.total_c")
        by_norm = half_up("b.norm_num * a.area_c", "100 * b.total_c")
        cap = "1 = 1" if self.c.organization.cap_common_house_by_norm else "1 = 0"
        share = f"""CASE WHEN b.method = 'common_house_norm' THEN {by_norm}
            WHEN {cap} AND b.norm_num IS NOT NULL AND {by_norm} < {by_meter} THEN {by_norm}
            ELSE {by_meter} END"""
        volume = billed(share, service.places)
        return execute(
            CHARGE_INSERT
            + f"""
            SELECT x.id, %s, %s, 'common_house', 0, x.method, x.vol / {float(MICRO)!r}, %s,
                x.norm_e6 / {float(MICRO)!r}, NULL, {kopecks("x.vol", tariff_e4)}, x.details, %s
            FROM (
                SELECT a.id, b.method, b.norm_e6, b.details, {volume} AS vol
                FROM run_acc a JOIN run_ch b ON b.building_id = a.building_id
            ) x
            """,  # noqa: S608 - constants only
            [self.period_id, service.id, tariff, self.run_id],
        )
