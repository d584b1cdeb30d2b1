"""The billing run in SQL: a few INSERT … SELECT statements per service for all accounts at once.

Every quantity is an integer in SQL, so the figures are exact on SQLite (which keeps decimals as
binary floats) as on PostgreSQL: volumes in millionths («micro»), areas in hundredths of m²,
tariffs in 1/10 000 ₽, amounts in kopecks, each rounded half-up exactly where the Python rules
(`kvartplata.billing.calc`) round. What SQL does not decide — several meters of one resource in a
flat, a meter billed for the first time, readings arriving after estimated months, a counter
that rolled over or went back, a missing norm — is left to the Python biller of `engine`, which
is the reference; the set of accounts SQL leaves is returned to it.
"""

import datetime
from decimal import Decimal

from django.db import connection

from kvartplata.billing.models import (
    HISTORY_SLOTS,
    MAX_ZONES,
    Charge,
    Norm,
    Period,
    Service,
    history_column,
)
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.periods import add_months

MICRO = 1_000_000
# Leave metered and heating lines to the Python biller (the reference), for equivalence tests.
PYTHON_ONLY = False
# A flat's area on a share of the premises, in 0,01 m², rounded half-up (share in 1/10 000).
AREA_CENTS = (
    "((CAST(ROUND(p.total_area * 100) AS BIGINT) * CAST(ROUND(a.share * 10000) AS BIGINT)"
    " + 5000) / 10000)"
)
METHOD_RANK_SQL = (
    "CASE c.method WHEN 'meter' THEN 0 WHEN 'average' THEN 1 WHEN 'norm' THEN 2 ELSE 3 END"
)
RANK_METHOD_SQL = (
    "CASE MAX(x.rank) WHEN 0 THEN 'meter' WHEN 1 THEN 'average' WHEN 2 THEN 'norm' "
    "ELSE 'norm_coefficient' END"
)
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
            "run_id BIGINT",
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

    def metered(self, service, tariffs: list[Decimal], zones: list[int]) -> set[int]:
        """Lines and meter states of one metered service; returns the accounts left to Python."""
        c = self.c
        nz = service.zones
        resource = service.resource
        meter_params = [resource, c.end, c.month]
        if self.prev_id is None or PYTHON_ONLY:
            # Nothing billed before: every meter needs its history read, which Python does.
            return self._no_meter_lines(service) | self._accounts_with_meters(service)
        valid = (
            "1"
            if resource == "electricity"
            else "CASE WHEN m.next_verification_on >= %s THEN 1 ELSE 0 END"
        )
        valid_params = [] if resource == "electricity" else [c.month]
        current = ", ".join(
            f"CAST(ROUND(COALESCE(r.value{z}, 0) * {MICRO}) AS BIGINT) AS c{z}"
            for z in range(1, nz + 1)
        )
        previous = ", ".join(
            ["ps.gap AS p_gap", "ps.hn AS p_hn"]
            + [f"ps.r{z} AS p_r{z}" for z in range(1, nz + 1)]
            + [
                f"ps.{history_column(z, k)} AS p_{history_column(z, k)}"
                for z in range(1, nz + 1)
                for k in range(1, HISTORY_SLOTS + 1)
            ]
        )
        not_back = " AND ".join(f"q.c{z} >= q.p_r{z}" for z in range(1, nz + 1))
        drop_temp("run_m")
        execute(
            f"""
            CREATE TEMP TABLE run_m AS
            SELECT q.*, CASE
                WHEN q.n <> 1 OR q.zones <> {nz} OR q.has_state = 0 THEN 'py'
                WHEN q.has_reading = 1 AND q.valid = 1 THEN
                    CASE WHEN {not_back} THEN 'meter' ELSE 'py' END
                WHEN q.p_gap < 3 AND q.p_hn >= CASE WHEN q.newer = 1 THEN 3 ELSE 6 END
                    THEN 'average'
                WHEN q.norm_e6 IS NOT NULL THEN 'norm'
                ELSE 'py' END AS cls
            FROM (
                SELECT m.id AS meter_id, m.account_id AS account_id, m.zones AS zones,
                    {valid} AS valid,
                    CASE WHEN m.installed_on > %s THEN 1 ELSE 0 END AS newer,
                    COUNT(*) OVER (PARTITION BY m.account_id) AS n,
                    CASE WHEN r.id IS NULL THEN 0 ELSE 1 END AS has_reading,
                    CASE WHEN ps.meter_id IS NULL THEN 0 ELSE 1 END AS has_state,
                    {current}, {previous},
                    nb.person_e6 AS norm_e6, a.residents AS residents
                FROM meters_meter m
                JOIN run_acc a ON a.id = m.account_id
                LEFT JOIN meters_reading r
                    ON r.meter_id = m.id AND r.month = %s AND r.is_accepted = %s
                LEFT JOIN billing_meterstate ps ON ps.period_id = %s AND ps.meter_id = m.id
                LEFT JOIN run_norm nb ON nb.building_id = a.building_id AND nb.service_id = %s
                WHERE {self.meter_filter("m")}
            ) q
            """,  # noqa: S608 - column lists are generated from constants
            [
                *valid_params,
                c.month - datetime.timedelta(days=183),
                c.month,
                True,
                self.prev_id,
                service.id,
                *meter_params,
            ],
        )
        analyze("run_m")
        self._states(nz)
        self.late_recalculations(service, nz, self.gap_tariff, self.reason)
        self._meter_lines(service, tariffs, zones)
        self._meter_norm_lines(service, tariffs)
        left = {a for (a,) in fetch("SELECT DISTINCT account_id FROM run_m WHERE cls = 'py'")}
        return left | self._no_meter_lines(service)

    def _coefficient(self) -> tuple[int, Decimal]:
        coefficient = self.c.coefficient
        return units(coefficient, 100), coefficient

    def _states(self, nz: int) -> None:
        coef_e2, _ = self._coefficient()
        norm_volume = "(norm_e6 * CASE WHEN residents > 1 THEN residents ELSE 1 END)"
        with_coef = (
            f"CASE WHEN valid = 0 THEN {half_up(f'{norm_volume} * {coef_e2}', '100')} "
            f"ELSE {norm_volume} END"
        )
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
            share, current = self.share(z), self.current(z)
            columns += [f"r{z}", f"e{z}"]
            values += [
                f"CASE WHEN cls = 'meter' THEN c{z} ELSE p_r{z} END",
                f"CASE cls WHEN 'meter' THEN {current} "
                f"WHEN 'average' THEN {half_up(hist_sum, 'p_hn')} "
                f"ELSE {half_up(with_coef, str(nz))} END",
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
            f"SELECT {', '.join(values)} FROM run_m WHERE cls <> 'py'"  # noqa: S608
        )

    @staticmethod
    def share(z: int) -> str:
        """SQL: a month's share of the consumption since the last reading used (run_m row)."""
        return half_up(f"c{z} - p_r{z}", "(p_gap + 1)")

    @classmethod
    def current(cls, z: int) -> str:
        """SQL: this month's volume by readings, less the shares of the estimated months."""
        return f"(c{z} - p_r{z} - {cls.share(z)} * p_gap)"

    def late_recalculations(self, service, nz: int, gap_tariff, reason) -> None:
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
            tariffs = [units(gap_tariff(service, z, month), 10000) for z in zone_list]
            tariffs += [0] * (MAX_ZONES - len(tariffs))
            rows.append((periods[month], back, month, *tariffs, reason(service, month)[:255]))
        temp_table(
            "run_gp",
            "period_id BIGINT, back BIGINT, month DATE, t1 BIGINT, t2 BIGINT, t3 BIGINT, "
            "reason VARCHAR(255)",
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO run_gp VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        delta = " + ".join(f"({self.share(z)} - g.e{z}) * gp.t{z}" for z in range(1, nz + 1))
        execute(
            f"""
            INSERT INTO run_recalc (account_id, service_id, concerns_month, kopecks, reason)
            SELECT x.account_id, %s, x.month, x.kopecks, x.reason FROM (
                SELECT m.account_id, gp.month, gp.reason,
                    CASE WHEN {delta} >= 0 THEN ({delta} + 50000000) / 100000000
                    ELSE -((50000000 - ({delta})) / 100000000) END AS kopecks
                FROM run_m m
                CROSS JOIN run_gp gp
                CROSS JOIN billing_meterstate g
                WHERE m.cls = 'meter' AND m.p_gap > 0 AND gp.back <= m.p_gap
                    AND g.period_id = gp.period_id AND g.meter_id = m.meter_id
            ) x WHERE x.kopecks <> 0
            """,
            [service.id],
        )

    def save_recalculations(self, python_rows: list[dict]) -> int:
        """The run's automatic recalculations and their ledger entries, replacing earlier ones."""
        if python_rows:
            bulk_insert(
                "run_recalc",
                ["account_id", "service_id", "concerns_month", "kopecks", "reason"],
                (
                    (
                        r["account_id"],
                        r["service_id"],
                        r["concerns_month"],
                        int(r["amount"] * 100),
                        r["reason"][:255],
                    )
                    for r in python_rows
                ),
            )
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
        for i, zone in enumerate(zones):
            tariff_e4 = units(tariffs[i], 10000)
            e = f"s.e{i + 1}"
            execute(
                CHARGE_INSERT
                + f"""
                SELECT s.account_id, s.period_id, %s, 'individual', {zone}, s.method,
                    {e} / {float(MICRO)!r}, %s, NULL, NULL, {kopecks(e, tariff_e4)}, '{{}}', %s
                FROM run_m m JOIN billing_meterstate s
                    ON s.period_id = %s AND s.meter_id = m.meter_id
                WHERE m.cls IN ('meter', 'average')
                """,  # noqa: S608 - constants and integers only
                [service.id, tariffs[i], self.run_id, self.period_id],
            )

    def _norm_select(self, service, *, coefficient_when, source, source_params, where):
        """SQL of norm lines (one per account, zone 0) from `source` with residents and norm_e6."""
        tariff = self.c.tariff(service, 0)
        tariff_e4 = units(tariff, 10000)
        coef_e2, coefficient = self._coefficient()
        base = "(x.norm_e6 * CASE WHEN x.residents > 1 THEN x.residents ELSE 1 END)"
        if coefficient == 1:
            coefficient_when = "0 = 1"
        volume = (
            f"CASE WHEN {coefficient_when} THEN {half_up(f'{base} * {coef_e2}', '100')} "
            f"ELSE {base} END"
        )
        sql = (
            CHARGE_INSERT
            + f"""
            SELECT x.account_id, %s, %s, 'individual', 0,
                CASE WHEN {coefficient_when} THEN 'norm_coefficient' ELSE 'norm' END,
                x.vol / {float(MICRO)!r}, %s, x.norm_e6 / {float(MICRO)!r},
                CASE WHEN {coefficient_when} THEN %s ELSE NULL END,
                {kopecks("x.vol", tariff_e4)}, '{{}}', %s
            FROM (SELECT x.*, {volume} AS vol FROM ({source}) x WHERE {where}) x
            """  # noqa: S608 - constants only
        )
        return sql, [self.period_id, service.id, tariff, coefficient, self.run_id, *source_params]

    def _meter_norm_lines(self, service, tariffs) -> None:
        sql, params = self._norm_select(
            service,
            coefficient_when="x.valid = 0",
            source="SELECT account_id, valid, residents, norm_e6, cls FROM run_m",
            source_params=[],
            where="x.cls = 'norm'",
        )
        execute(sql, params)

    def _no_meter_lines(self, service) -> set[int]:
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
            coefficient_when="1 = 1" if service.meter_installable else "0 = 1",
            source=source,
            source_params=source_params,
            where="x.norm_e6 IS NOT NULL",
        )
        execute(sql, params)
        missing = fetch(
            f"SELECT x.account_id FROM ({source}) x WHERE x.norm_e6 IS NULL",  # noqa: S608
            source_params,
        )
        return {a for (a,) in missing}

    def _accounts_with_meters(self, service) -> set[int]:
        c = self.c
        rows = fetch(
            f"""SELECT DISTINCT m.account_id FROM meters_meter m
            JOIN run_acc a ON a.id = m.account_id
            WHERE {self.meter_filter("m")}""",  # noqa: S608
            [service.resource, c.end, c.month],
        )
        return {a for (a,) in rows}

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

    def heating(self, service, tariff: Decimal) -> set[int]:
        """Heating by the norm per m² × the flat's area; the accounts with no norm are left."""
        if PYTHON_ONLY:
            return {a for (a,) in fetch("SELECT id FROM run_acc")}
        tariff_e4 = units(tariff, 10000)
        # norm (6 places) × area (2 places) rounded half-up to 6 places.
        volume = "((nb.area_e6 * a.area_c + 50) / 100)"
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
            WHERE nb.area_e6 IS NULL""",
            [service.id],
        )
        return {a for (a,) in rows}

    def wastewater(self, service, tariff: Decimal, water_service_ids: list[int]) -> None:
        """Wastewater = cold + hot water of the month, for every account that has either."""
        if not water_service_ids:
            return
        tariff_e4 = units(tariff, 10000)
        placeholders = ", ".join(["%s"] * len(water_service_ids))
        execute(
            CHARGE_INSERT
            + f"""
            SELECT x.account_id, %s, %s, 'individual', 0, {RANK_METHOD_SQL},
                SUM(x.vol) / {float(MICRO)!r}, %s, NULL, NULL,
                {kopecks("CAST(SUM(x.vol) AS BIGINT)", tariff_e4)}, '{{}}', %s
            FROM (
                SELECT c.account_id, CAST(ROUND(c.volume * {MICRO}) AS BIGINT) AS vol,
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
        """Σ of the flats' individual volumes of a service per building, this month."""
        rows = fetch(
            f"""
            SELECT a.building_id, SUM(CAST(ROUND(c.volume * {MICRO}) AS BIGINT))
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
        volume = f"""CASE WHEN b.method = 'common_house_norm' THEN {by_norm}
            WHEN {cap} AND b.norm_num IS NOT NULL AND {by_norm} < {by_meter} THEN {by_norm}
            ELSE {by_meter} END"""
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
