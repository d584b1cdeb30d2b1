"""Billing: services, tariffs, norms, runs, charges, recalculations and the ledger of periods.

The periods themselves (registry.models.Period) are the organization's calendar, below billing.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Abs
from django.db.models.lookups import LessThan
from django.utils.translation import gettext_lazy as _

from kvartplata.lib.leases import LeasedJob
from kvartplata.registry.models import Building, Organization, Period, PersonalAccount, Provider
from kvartplata.registry.vocabulary import Resource, Unit, Zone

MONEY = {"max_digits": 14, "decimal_places": 2}
VOLUME = {"max_digits": 18, "decimal_places": 6}
PRICE = {"max_digits": 12, "decimal_places": 4}


class Service(models.Model):
    """A periodic service («услуга») of an organization and how its volume is determined."""

    class Method(models.TextChoices):
        METER = "meter", _("по прибору учёта")
        AREA = "area", _("по площади")
        PERSON = "person", _("по числу проживающих")
        HEATING = "heating", _("отопление по нормативу на площадь")
        WASTEWATER = "wastewater", _("водоотведение: сумма ХВС и ГВС")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("организация"),
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="services", verbose_name=_("поставщик")
    )
    code = models.SlugField(_("код"), max_length=30)
    name = models.CharField(_("название"), max_length=120)
    unit = models.CharField(_("единица"), max_length=10, choices=Unit.choices)
    method = models.CharField(_("способ расчёта"), max_length=20, choices=Method.choices)
    resource = models.CharField(
        _("ресурс"), max_length=20, choices=Resource.choices, blank=True, default=""
    )
    zones = models.PositiveSmallIntegerField(_("тарифных зон"), default=1)
    has_common_house = models.BooleanField(
        _("начислять ОДН"), default=False, help_text=_("Коммунальный ресурс на общедомовые нужды.")
    )
    meter_installable = models.BooleanField(
        _("прибор учёта может быть установлен"),
        default=True,
        help_text=_("Без прибора начисление по нормативу с повышающим коэффициентом."),
    )
    volume_precision = models.PositiveSmallIntegerField(
        _("знаков объёма после запятой"),
        null=True,
        blank=True,
        choices=[(0, "целые"), (1, "0,1"), (2, "0,01"), (3, "0,001"), (4, "0,0001")],
        help_text=_(
            "Точность, с которой объём округляется перед умножением на тариф и печатается. "
            "Пусто — по единице: м³ 0,001; Гкал 0,0001; кВт·ч 0,01; м² 0,01."
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("порядок"), default=100)
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("услуга")
        verbose_name_plural = _("услуги")
        ordering = ["organization", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="service_unique_code"),
            models.CheckConstraint(
                condition=Q(zones__gte=1, zones__lte=3), name="service_zones_1_3"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def places(self) -> int:
        """Places the service's volumes are billed and printed with (`calc.volumes`)."""
        from kvartplata.billing.calc.volumes import billing_places

        return billing_places(self.unit, self.volume_precision)


class Tariff(models.Model):
    """Price of a service per unit («тариф») from a date; the latest one not after a day applies."""

    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="tariffs", verbose_name=_("услуга")
    )
    zone = models.PositiveSmallIntegerField(_("зона"), choices=Zone.choices, default=Zone.SINGLE)
    valid_from = models.DateField(_("действует с"))
    valid_to = models.DateField(_("действует по"), null=True, blank=True)
    price = models.DecimalField(_("тариф, ₽"), **PRICE)
    basis = models.CharField(_("основание"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("тариф")
        verbose_name_plural = _("тарифы")
        ordering = ["service", "zone", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "zone", "valid_from"], name="tariff_unique_start"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="tariff_price_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="tariff_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.service}: {self.price} с {self.valid_from:%d.%m.%Y}"

    def clean(self):
        # A month is billed at one tariff: a tariff starts on the 1st and ends on a month's last
        # day, so that a change within a month is never billed silently at the old price.
        errors = {}
        if self.valid_from and self.valid_from.day != 1:
            errors["valid_from"] = _(
                "Тариф действует с первого числа месяца: месяц начисляется по одному тарифу. "
                "Укажите 1-е число (изменение тарифа в середине месяца не поддерживается)."
            )
        if self.valid_to and (self.valid_to + datetime.timedelta(days=1)).day != 1:
            errors["valid_to"] = _("Тариф действует до последнего числа месяца.")
        if errors:
            raise ValidationError(errors)


class Norm(models.Model):
    """Consumption norm («норматив») of a service, per building type, from a date."""

    class Kind(models.TextChoices):
        PER_PERSON = "per_person", _("на человека в месяц")
        PER_AREA = "per_area", _("на м² площади в месяц")
        COMMON_AREA = "common_area", _("ОДН на м² общего имущества в месяц")
        PER_AREA_YEAR = "per_area_year", _("на м² площади в год")

    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="norms", verbose_name=_("услуга")
    )
    kind = models.CharField(_("вид"), max_length=20, choices=Kind.choices)
    building_type = models.CharField(
        _("тип дома"), max_length=10, choices=Building.Type.choices, blank=True, default=""
    )
    valid_from = models.DateField(_("действует с"))
    value = models.DecimalField(_("норматив"), **VOLUME)

    class Meta:
        verbose_name = _("норматив")
        verbose_name_plural = _("нормативы")
        ordering = ["service", "kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "kind", "building_type", "valid_from"], name="norm_unique_start"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="norm_not_negative"),
        ]

    def __str__(self):
        return f"{self.service}: {self.value} ({self.get_kind_display()})"


class IncreasingCoefficient(models.Model):
    """The increasing coefficient («повышающий коэффициент») of a resource, from a date.

    Applied to the norm when a meter could be installed but is not, or after the average of a
    broken or unverified meter has run out (ПП 354 пп. 42, 60). Cold water: 1,5, and 3 from
    6 December 2025 (ПП РФ № 1871 of 25.11.2025); hot water and electricity 1,5.
    """

    resource = models.CharField(_("ресурс"), max_length=20, choices=Resource.choices)
    valid_from = models.DateField(_("действует с"))
    value = models.DecimalField(_("коэффициент"), max_digits=5, decimal_places=2)
    basis = models.CharField(_("основание"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("повышающий коэффициент")
        verbose_name_plural = _("повышающие коэффициенты")
        ordering = ["resource", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "valid_from"], name="increasing_coefficient_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(value__gte=1),
                name="increasing_coefficient_at_least_1",
                violation_error_message=_("Повышающий коэффициент не может быть меньше 1."),
            ),
        ]

    def __str__(self):
        return f"{self.get_resource_display()}: {self.value} с {self.valid_from:%d.%m.%Y}"


class BillingRun(LeasedJob):
    """One run of the billing engine over an organization's open period (progress and report)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("в очереди")
        RUNNING = "running", _("выполняется")
        DONE = "done", _("завершён")
        FAILED = "failed", _("ошибка")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="runs", verbose_name=_("организация")
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="runs", verbose_name=_("период")
    )
    status = models.CharField(
        _("статус"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    accounts_total = models.PositiveIntegerField(_("счетов всего"), default=0)
    accounts_done = models.PositiveIntegerField(_("счетов обработано"), default=0)
    lines = models.PositiveIntegerField(_("строк начислений"), default=0)
    report = models.JSONField(_("что не начислено и почему"), default=list, blank=True)
    error = models.TextField(_("ошибка"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("запустил"),
    )
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    started_at = models.DateTimeField(_("начат"), null=True, blank=True)
    finished_at = models.DateTimeField(_("завершён"), null=True, blank=True)

    class Meta:
        verbose_name = _("запуск начисления")
        verbose_name_plural = _("запуски начисления")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status__in=["queued", "running"]),
                name="billing_run_one_active_per_organization",
            )
        ]

    def __str__(self):
        return f"{self.period} — {self.get_status_display()}"

    @property
    def progress_percent(self) -> int:
        if not self.accounts_total:
            return 0
        return int(100 * self.accounts_done / self.accounts_total)


class Charge(models.Model):
    """A charge line («начисление») of an account, service, month and kind, and its origin."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("индивидуальное потребление")
        COMMON_HOUSE = "common_house", _("общедомовые нужды")

    class Method(models.TextChoices):
        METER = "meter", _("по показаниям")
        AVERAGE = "average", _("по среднему")
        NORM = "norm", _("по нормативу")
        NORM_COEFFICIENT = "norm_coefficient", _("по нормативу с коэффициентом")
        AREA = "area", _("по площади")
        PERSON = "person", _("по числу проживающих")
        COMMON_HOUSE_METER = "common_house_meter", _("ОДН по общедомовому прибору")
        COMMON_HOUSE_NORM = "common_house_norm", _("ОДН по нормативу")
        IMPORTED = "imported", _("загружено из внешней системы")

    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("ЛС"),
        db_index=False,
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("период"),
        db_index=False,
    )
    # No index of its own: a service is looked up with its period (the unique key), and every
    # index is paid for on each of the million lines a month.
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("услуга"),
        db_index=False,
    )
    kind = models.CharField(_("вид"), max_length=20, choices=Kind.choices, default=Kind.INDIVIDUAL)
    zone = models.PositiveSmallIntegerField(_("зона"), choices=Zone.choices, default=Zone.SINGLE)
    method = models.CharField(_("способ"), max_length=20, choices=Method.choices)
    volume = models.DecimalField(_("объём"), **VOLUME)
    tariff = models.DecimalField(_("тариф"), **PRICE)
    norm = models.DecimalField(_("норматив"), null=True, blank=True, **VOLUME)
    coefficient = models.DecimalField(
        _("коэффициент"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(_("начислено, ₽"), **MONEY)
    details = models.JSONField(_("как рассчитано"), default=dict, blank=True)
    run = models.ForeignKey(
        BillingRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("запуск"),
        db_index=False,
    )

    class Meta:
        verbose_name = _("начисление")
        verbose_name_plural = _("начисления")
        constraints = [
            # Period first: a run's lines are appended at the end of this index, not spread
            # over the whole history; lookups by account name the period too.
            models.UniqueConstraint(
                fields=["period", "account", "service", "kind", "zone"],
                name="charge_one_line_per_period_account_service_kind",
            )
        ]

    def __str__(self):
        return f"{self.account} {self.period} {self.service}: {self.amount}"

    @property
    def explanation(self) -> str:
        """How the line was computed, in words and numbers («по площади: 48,29 м² × …»)."""
        text = (self.details or {}).get("explanation") or self.__dict__.get("_explanation")
        if text:
            return text
        # Lines billed set-based (by area, per person) carry no text: it follows from the row.
        from kvartplata.billing.calc.volumes import format_tariff
        from kvartplata.lib.money import format_rub, format_volume

        total = format_rub(self.amount)
        tariff = format_tariff(self.tariff)
        if self.method == self.Method.AREA:
            return f"по площади: {format_volume(self.volume, 2)} м² × {tariff} ₽ = {total}"
        if self.method == self.Method.PERSON:
            return f"по числу проживающих: {int(self.volume)} чел. × {tariff} ₽ = {total}"
        return ""


class Recalculation(models.Model):
    """A correction («перерасчёт») booked in an open month for the month it concerns."""

    class Source(models.TextChoices):
        STAFF = "staff", _("оператор")
        LATE_READINGS = "late_readings", _("поздние показания")
        IMPORT = "import", _("загрузка")
        # A privilege or subsidy granted to the payer (a negative amount): the receipt shows it
        # in the column «Льготы, субсидии», not among the recalculations.
        PRIVILEGE = "privilege", _("льгота, субсидия")

    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="recalculations",
        verbose_name=_("ЛС"),
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="recalculations",
        verbose_name=_("проведён в периоде"),
    )
    concerns_month = models.DateField(_("за месяц"))
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("услуга")
    )
    volume = models.DecimalField(_("объём"), null=True, blank=True, **VOLUME)
    amount = models.DecimalField(_("сумма, ₽"), **MONEY)
    reason = models.CharField(_("основание"), max_length=255)
    source = models.CharField(_("источник"), max_length=20, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("оператор"),
    )
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("перерасчёт")
        verbose_name_plural = _("перерасчёты")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "period"], name="recalc_account_period_idx")]

    def __str__(self):
        return f"{self.account} {self.concerns_month:%m.%Y}: {self.amount}"


class LedgerEntry(models.Model):
    """An append-only money entry of an account: + increases the debt, − reduces it."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("начисление")
        RECALCULATION = "recalculation", _("перерасчёт")
        PENALTY = "penalty", _("пени")
        PAYMENT = "payment", _("оплата")
        CORRECTION = "correction", _("корректировка")

    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="ledger",
        verbose_name=_("ЛС"),
        db_index=False,
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="ledger",
        verbose_name=_("период"),
        db_index=False,
    )
    concerns_month = models.DateField(_("за месяц"), null=True, blank=True)
    kind = models.CharField(_("вид"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("сумма, ₽"), **MONEY)
    # The payee the money is due to or paid to; None: the organization itself.
    provider = models.ForeignKey(
        "registry.Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("поставщик"),
        db_index=False,
    )
    entry_date = models.DateField(_("дата"))
    source_id = models.BigIntegerField(_("источник"), null=True, blank=True)
    note = models.CharField(_("примечание"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)

    class Meta:
        verbose_name = _("проводка")
        verbose_name_plural = _("журнал проводок")
        indexes = [
            models.Index(fields=["account", "period"], name="ledger_account_period_idx"),
            # A month's entries of one kind; its payments read by payment and day with their
            # amounts from the index alone (the collections by bank and day).
            models.Index(
                fields=["period", "kind", "source_id", "entry_date"],
                include=["amount"],
                name="ledger_period_kind_src_idx",
            ),
        ]

    def __str__(self):
        return f"{self.account} {self.get_kind_display()} {self.amount}"


class AccountBalance(models.Model):
    """Materialized money movement of an account in a month; always equal to the journal."""

    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="balances",
        verbose_name=_("ЛС"),
        db_index=False,
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="balances",
        verbose_name=_("период"),
    )
    month = models.DateField(_("месяц"))
    opening = models.DecimalField(_("на начало"), **MONEY)
    charges = models.DecimalField(_("начислено"), **MONEY)
    recalculations = models.DecimalField(_("перерасчёты"), **MONEY)
    penalties = models.DecimalField(_("пени"), **MONEY)
    payments = models.DecimalField(_("оплачено"), **MONEY)
    closing = models.DecimalField(_("на конец"), **MONEY)

    class Meta:
        verbose_name = _("сальдо")
        verbose_name_plural = _("сальдо")
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="balance_one_per_month"),
            # A tolerance, not equality: SQLite keeps decimals as binary floats.
            models.CheckConstraint(
                condition=LessThan(
                    Abs(
                        models.F("opening")
                        + models.F("charges")
                        + models.F("recalculations")
                        + models.F("penalties")
                        - models.F("payments")
                        - models.F("closing")
                    ),
                    Value(Decimal("0.001")),
                ),
                name="balance_adds_up",
            ),
        ]
        indexes = [models.Index(fields=["account", "month"], name="balance_account_month_idx")]

    def __str__(self):
        return f"{self.account} {self.month:%m.%Y}: {self.closing}"


class KeyRate(models.Model):
    """Refinancing/key rate of the Bank of Russia used for penalties, from a date."""

    valid_from = models.DateField(_("действует с"), unique=True)
    rate = models.DecimalField(_("ставка, %"), max_digits=6, decimal_places=3)
    basis = models.CharField(_("основание"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ставка для пеней")
        verbose_name_plural = _("ставки для пеней")
        ordering = ["-valid_from"]

    def __str__(self):
        return f"{self.rate} % с {self.valid_from:%d.%m.%Y}"


class Moratorium(models.Model):
    """A span of days when no penalty accrues (мораторий)."""

    start = models.DateField(_("с"))
    end = models.DateField(_("по"), help_text=_("Последний день моратория включительно."))
    debts_due_before = models.DateField(_("только для долгов со сроком до"), null=True, blank=True)
    basis = models.CharField(_("основание"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("мораторий на пени")
        verbose_name_plural = _("моратории на пени")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="moratorium_ordered"
            )
        ]

    def __str__(self):
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"


# The window of monthly volumes a meter's average is taken over (ПП 354 п. 59: 6 months).
HISTORY_SLOTS = 6
MAX_ZONES = 3


def history_column(zone: int, slot: int) -> str:
    """Column of a meter state's history: zone 1…3, slot 1 (oldest) … 6 (newest)."""
    return f"h{zone}{slot}"


class MeterState(models.Model):
    """A flat meter after a month's billing run: what the next month needs, in one narrow row.

    Written set-based by the run (one row per meter and period, replaced when the run repeats).
    Quantities are integers in millionths (of m³, kWh…), so SQL on SQLite stays exact:
    `r` the reading used so far, `e` the volume billed for this meter this month, `gap` the
    months billed by an estimate in a row up to this one, `h…` the monthly volumes the average
    is taken over (newest in slot 6, `hn` of them filled).
    """

    # FOREIGN KEY constraints in the database (issue 13 item 5): a state always names an
    # existing period, meter and account. A meter or account with states cannot be deleted.
    period = models.ForeignKey(Period, on_delete=models.CASCADE, db_index=False)
    meter = models.ForeignKey("meters.Meter", on_delete=models.PROTECT, db_index=False)
    account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, db_index=False)
    method = models.CharField(max_length=20)
    gap = models.PositiveSmallIntegerField(default=0)
    hn = models.PositiveSmallIntegerField(default=0)
    r1 = models.BigIntegerField(null=True)
    r2 = models.BigIntegerField(null=True)
    r3 = models.BigIntegerField(null=True)
    e1 = models.BigIntegerField(null=True)
    e2 = models.BigIntegerField(null=True)
    e3 = models.BigIntegerField(null=True)
    locals().update(
        {
            history_column(z, k): models.BigIntegerField(null=True)
            for z in range(1, MAX_ZONES + 1)
            for k in range(1, HISTORY_SLOTS + 1)
        }
    )

    class Meta:
        verbose_name = _("состояние прибора учёта")
        verbose_name_plural = _("состояния приборов учёта")
        constraints = [
            models.UniqueConstraint(fields=["period", "meter"], name="meterstate_one_per_period")
        ]

    def __str__(self):
        return f"{self.meter_id} {self.period_id}: {self.method}"
