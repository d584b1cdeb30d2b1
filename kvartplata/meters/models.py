"""Meters of flats and buildings («ИПУ», «ОДПУ») and their readings."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kvartplata.lib.leases import LeasedJob
from kvartplata.registry.models import Building, Organization, PersonalAccount
from kvartplata.registry.vocabulary import Resource

READING = {"max_digits": 16, "decimal_places": 4}


class Meter(models.Model):
    """A meter («прибор учёта») of a flat (by account) or of a building (common-house)."""

    class Scope(models.TextChoices):
        FLAT = "flat", _("индивидуальный (ИПУ)")
        BUILDING = "building", _("общедомовой (ОДПУ)")

    scope = models.CharField(_("вид"), max_length=10, choices=Scope.choices, default=Scope.FLAT)
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="meters",
        null=True,
        blank=True,
        verbose_name=_("ЛС"),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        related_name="meters",
        null=True,
        blank=True,
        verbose_name=_("дом"),
    )
    resource = models.CharField(_("ресурс"), max_length=20, choices=Resource.choices)
    serial_number = models.CharField(_("заводской номер"), max_length=40)
    model = models.CharField(_("модель"), max_length=80, blank=True)
    place = models.CharField(_("место установки"), max_length=80, blank=True)
    zones = models.PositiveSmallIntegerField(_("тарифных зон"), default=1)
    digits = models.PositiveSmallIntegerField(
        _("разрядность"), default=5, help_text=_("Целых разрядов счётного механизма.")
    )
    precision = models.PositiveSmallIntegerField(_("знаков после запятой"), default=3)
    installed_on = models.DateField(_("установлен"))
    verified_on = models.DateField(_("дата поверки"))
    next_verification_on = models.DateField(_("следующая поверка"))
    seal_number = models.CharField(_("номер пломбы"), max_length=40, blank=True)
    initial_value1 = models.DecimalField(_("начальные показания T1"), default=0, **READING)
    initial_value2 = models.DecimalField(
        _("начальные показания T2"), null=True, blank=True, **READING
    )
    initial_value3 = models.DecimalField(
        _("начальные показания T3"), null=True, blank=True, **READING
    )
    archived_on = models.DateField(_("снят с учёта"), null=True, blank=True)
    archive_reason = models.CharField(_("причина снятия"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("заменяет прибор"),
    )

    class Meta:
        verbose_name = _("прибор учёта")
        verbose_name_plural = _("приборы учёта")
        ordering = ["resource", "serial_number"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="flat", account__isnull=False, building__isnull=True))
                | Q(scope="building", account__isnull=True, building__isnull=False),
                name="meter_belongs_to_flat_or_building",
            ),
            models.CheckConstraint(condition=Q(zones__gte=1, zones__lte=3), name="meter_zones_1_3"),
            models.CheckConstraint(
                condition=Q(next_verification_on__gte=models.F("verified_on")),
                name="meter_verification_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.get_resource_display()} № {self.serial_number}"

    @property
    def is_archived(self) -> bool:
        return self.archived_on is not None

    def verification_expired(self, on_day) -> bool:
        return self.next_verification_on < on_day

    def initial_values(self) -> list:
        return [self.initial_value1, self.initial_value2, self.initial_value3][: self.zones]


# The columns a bulk write of readings fills (COPY / executemany), in this order.
READING_COLUMNS = (
    "meter_id",
    "month",
    "value1",
    "value2",
    "value3",
    "kind",
    "source",
    "is_accepted",
    "confirmed_high",
    "submitted_at",
    "submitted_by_id",
)


class Reading(models.Model):
    """A submission of a meter's values for a month; one accepted submission per meter and month."""

    class Source(models.TextChoices):
        CABINET = "cabinet", _("личный кабинет")
        STAFF = "staff", _("оператор")
        IMPORT = "import", _("загрузка")
        AUTOMATIC = "automatic", _("автоматически")
        BUILDING = "building", _("общедомовой прибор")

    class Kind(models.TextChoices):
        REGULAR = "regular", _("текущие")
        FINAL = "final", _("конечные при замене")

    meter = models.ForeignKey(
        Meter, on_delete=models.PROTECT, related_name="readings", verbose_name=_("прибор")
    )
    month = models.DateField(_("месяц"))
    value1 = models.DecimalField(_("T1"), **READING)
    value2 = models.DecimalField(_("T2"), null=True, blank=True, **READING)
    value3 = models.DecimalField(_("T3"), null=True, blank=True, **READING)
    kind = models.CharField(_("вид"), max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    source = models.CharField(_("источник"), max_length=10, choices=Source.choices)
    is_accepted = models.BooleanField(_("принято"), default=True)
    confirmed_high = models.BooleanField(_("высокий расход подтверждён"), default=False)
    submitted_at = models.DateTimeField(_("передано"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("кем"),
    )

    class Meta:
        verbose_name = _("показания")
        verbose_name_plural = _("показания")
        ordering = ["meter", "-month", "-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "month"],
                condition=Q(is_accepted=True),
                name="reading_one_accepted_per_meter_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="reading_month_first_day"),
            models.CheckConstraint(condition=Q(value1__gte=0), name="reading_not_negative"),
        ]
        indexes = [models.Index(fields=["meter", "month"], name="reading_meter_month_idx")]

    def __str__(self):
        return f"{self.meter} {self.month:%m.%Y}: {self.value1}"

    def values(self) -> list:
        return [self.value1, self.value2, self.value3][: self.meter.zones]


class ReminderLog(LeasedJob):
    """A reminder e-mail sent to a user (once per kind, month and user).

    The row is written (with a lease) before the message goes out and released once it left; a
    row whose lease ran out belongs to a worker that died mid-send and is removed, so that the
    next daily run reminds again.
    """

    class Kind(models.TextChoices):
        WINDOW_OPEN = "window_open", _("открыт приём показаний")
        VERIFICATION_DUE = "verification_due", _("скоро поверка")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    month = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("напоминание")
        verbose_name_plural = _("напоминания")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "month"], name="reminder_once")
        ]

    def __str__(self):
        return f"{self.user} {self.kind} {self.month:%m.%Y}"


class ReminderOptOut(models.Model):
    """A user who unsubscribed from reminder e-mails (readings window, verification due)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminder_opt_out",
        verbose_name=_("пользователь"),
    )
    created_at = models.DateTimeField(_("отписался"), auto_now_add=True)

    class Meta:
        verbose_name = _("отказ от напоминаний")
        verbose_name_plural = _("отказы от напоминаний")

    def __str__(self):
        return str(self.user)


class ReadingsFile(LeasedJob):
    """A readings CSV uploaded by staff and loaded by the task queue, with progress and report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("в очереди")
        PROCESSING = "processing", _("загружается")
        DONE = "done", _("загружен")
        REFUSED = "refused", _("отклонён")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, verbose_name=_("организация")
    )
    name = models.CharField(_("файл"), max_length=255)
    size = models.PositiveIntegerField(_("размер, байт"), default=0)
    status = models.CharField(
        _("статус"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    lines_total = models.PositiveIntegerField(_("строк"), default=0)
    lines_done = models.PositiveIntegerField(_("проверено строк"), default=0)
    lines_accepted = models.PositiveIntegerField(_("принято"), default=0)
    lines_refused = models.PositiveIntegerField(_("отклонено"), default=0)
    # The refused lines and the accepted ones with a notice: {line, account, serial_number,
    # message, accepted}, at most REPORT_LINES of them.
    report = models.JSONField(_("отчёт по строкам"), default=list, blank=True)
    error = models.TextField(_("причина отказа"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("загрузил"),
    )
    uploaded_at = models.DateTimeField(_("загружен"), auto_now_add=True)
    finished_at = models.DateTimeField(_("обработан"), null=True, blank=True)

    class Meta:
        verbose_name = _("файл показаний")
        verbose_name_plural = _("файлы показаний")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.PROCESSING)

    @property
    def progress_percent(self) -> int:
        if not self.lines_total:
            return 0
        return min(100, int(100 * self.lines_done / self.lines_total))
