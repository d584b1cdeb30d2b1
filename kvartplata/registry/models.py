"""The registry: servicing organizations, providers, buildings, premises and personal accounts."""

import secrets
from decimal import ROUND_HALF_UP

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kvartplata.lib import gost_qr
from kvartplata.lib.bankdetails import (
    account_key_errors,
    validate_account20,
    validate_bic,
    validate_inn,
    validate_kpp,
)
from kvartplata.lib.leases import LeasedJob

# Field validators of the bank details (one implementation: kvartplata.lib.bankdetails).
inn_validator = validate_inn
kpp_validator = validate_kpp
bic_validator = validate_bic
account20_validator = validate_account20


class BankDetails(models.Model):
    """Bank details of a payee (реквизиты): what the receipt and its QR code carry."""

    inn = models.CharField(_("ИНН"), max_length=12, validators=[inn_validator])
    kpp = models.CharField(_("КПП"), max_length=9, blank=True, validators=[kpp_validator])
    bank_name = models.CharField(_("банк"), max_length=45)
    bic = models.CharField(_("БИК"), max_length=9, validators=[bic_validator])
    correspondent_account = models.CharField(
        _("корр. счёт"), max_length=20, validators=[account20_validator]
    )
    settlement_account = models.CharField(
        _("расчётный счёт"), max_length=20, validators=[account20_validator]
    )

    class Meta:
        abstract = True

    def clean(self):
        """The accounts' control keys against the БИК (field formats are the field validators)."""
        super().clean()
        keys = account_key_errors(
            bic=self.bic,
            correspondent_account=self.correspondent_account,
            settlement_account=self.settlement_account,
        )
        if keys:
            raise ValidationError(keys)
        self._check_qr_block()

    def _check_qr_block(self):
        """The payee's name and bank must fit the QR code's 300-byte mandatory block."""
        fields = {
            "Name": getattr(self, "name", ""),
            "PersonalAcc": self.settlement_account,
            "BankName": self.bank_name,
            "BIC": self.bic,
            "CorrespAcc": self.correspondent_account,
        }
        try:
            gost_qr.payment_text(fields)
        except gost_qr.MandatoryBlockTooLong as exc:
            raise ValidationError({"name": str(exc)}) from None
        except ValueError:
            pass  # a field's format: its own validator says what is wrong


class Organization(BankDetails):
    """Servicing organization («обслуживающая организация», исполнитель): УК, ТСЖ or ЕИРЦ."""

    class LinkProof(models.TextChoices):
        RECEIPT_TOTAL = "receipt_total", _("сумма последней квитанции")
        RECEIPT_CODE = "receipt_code", _("код с квитанции")

    class OutsideWindow(models.TextChoices):
        REFUSE = "refuse", _("отклонять")
        NEXT_PERIOD = "next_period", _("принимать в следующий период")

    name = models.CharField(_("название"), max_length=160)
    short_name = models.CharField(_("краткое название"), max_length=80)
    ogrn = models.CharField(_("ОГРН"), max_length=15, blank=True)
    address = models.CharField(_("адрес"), max_length=255)
    phones = models.CharField(_("телефоны"), max_length=160, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("сайт"), blank=True)
    hours = models.CharField(_("часы работы"), max_length=160, blank=True)
    link_proof = models.CharField(
        _("подтверждение привязки ЛС"),
        max_length=20,
        choices=LinkProof.choices,
        default=LinkProof.RECEIPT_CODE,
    )
    readings_day_from = models.PositiveSmallIntegerField(
        _("приём показаний с"), default=15, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    readings_day_to = models.PositiveSmallIntegerField(
        _("приём показаний по"),
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )
    readings_outside_window = models.CharField(
        _("показания вне окна"),
        max_length=20,
        choices=OutsideWindow.choices,
        default=OutsideWindow.NEXT_PERIOD,
    )
    consumption_alert_factor = models.DecimalField(
        _("порог подтверждения расхода, × среднего"), max_digits=5, decimal_places=2, default=3
    )
    receipt_day = models.PositiveSmallIntegerField(
        _("день доставки квитанции"), default=5, validators=[MaxValueValidator(28)]
    )
    due_day = models.PositiveSmallIntegerField(
        _("срок оплаты, число следующего месяца"), default=15, validators=[MaxValueValidator(28)]
    )
    cap_common_house_by_norm = models.BooleanField(_("ОДН не выше норматива"), default=True)

    class Meta:
        verbose_name = _("организация")
        verbose_name_plural = _("организации")
        constraints = [
            models.CheckConstraint(
                condition=Q(readings_day_from__lte=models.F("readings_day_to")),
                name="organization_readings_window_ordered",
            )
        ]

    def __str__(self):
        return self.short_name or self.name


class Period(models.Model):
    """A billing month of an organization («расчётный период»): open → billed → closed.

    The organization's calendar: the apps below billing (meters) read its first month and its
    closed months; billing moves a period through its states (billing.services). A closed one
    never changes (database triggers of billing migrations 0003 and 0007 name its table).
    """

    class State(models.TextChoices):
        OPEN = "open", _("открыт")
        BILLED = "billed", _("начислен")
        CLOSED = "closed", _("закрыт")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="periods",
        verbose_name=_("организация"),
    )
    month = models.DateField(_("месяц"), help_text=_("Первое число месяца."))
    state = models.CharField(
        _("состояние"), max_length=10, choices=State.choices, default=State.OPEN
    )
    due_date = models.DateField(_("срок оплаты"))
    opened_at = models.DateTimeField(_("открыт"), auto_now_add=True)
    billed_at = models.DateTimeField(_("начислен"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)

    class Meta:
        # Created by billing, which owned it first: the table keeps its name (and its triggers).
        db_table = "billing_period"
        verbose_name = _("расчётный период")
        verbose_name_plural = _("расчётные периоды")
        ordering = ["organization", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="period_unique_month"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=~Q(state="closed"),
                name="period_one_open_per_organization",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="period_month_first_day"),
        ]

    def __str__(self):
        return f"{self.month:%m.%Y}"

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED


class Provider(BankDetails):
    """Provider of a service («поставщик», РСО) with its own bank details and QR code."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="providers",
        verbose_name=_("организация"),
    )
    name = models.CharField(_("название"), max_length=160)
    short_name = models.CharField(_("краткое название"), max_length=80)
    address = models.CharField(_("адрес"), max_length=255, blank=True)
    phones = models.CharField(_("телефоны"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("поставщик")
        verbose_name_plural = _("поставщики")
        ordering = ["name"]

    def __str__(self):
        return self.short_name or self.name


class Building(models.Model):
    """A block of flats («многоквартирный дом») with the areas the common-house formulas need."""

    class Type(models.TextChoices):
        FULL = "full", _("все удобства, централизованное ГВС")
        BOILER = "boiler", _("водонагреватели, без ГВС")
        BASIC = "basic", _("без ванн")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="buildings",
        verbose_name=_("организация"),
    )
    fias_code = models.CharField(_("код ФИАС"), max_length=36, blank=True)
    city = models.CharField(_("город"), max_length=80)
    street = models.CharField(_("улица"), max_length=120)
    house = models.CharField(_("дом"), max_length=20)
    building_type = models.CharField(
        _("тип дома"), max_length=10, choices=Type.choices, default=Type.FULL
    )
    floors = models.PositiveSmallIntegerField(_("этажей"), default=9)
    built_year = models.PositiveSmallIntegerField(_("год постройки"), null=True, blank=True)
    total_area = models.DecimalField(
        _("площадь помещений, м²"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Общая площадь всех жилых и нежилых помещений (знаменатель долей ОДН)."),
    )
    residential_area = models.DecimalField(
        _("жилые помещения, м²"), max_digits=12, decimal_places=2
    )
    non_residential_area = models.DecimalField(
        _("нежилые помещения, м²"), max_digits=12, decimal_places=2, default=0
    )
    common_area = models.DecimalField(
        _("общее имущество, м²"), max_digits=12, decimal_places=2, default=0
    )
    readings_day_from = models.PositiveSmallIntegerField(
        _("приём показаний с (для дома)"), null=True, blank=True
    )
    readings_day_to = models.PositiveSmallIntegerField(
        _("приём показаний по (для дома)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("дом")
        verbose_name_plural = _("дома")
        ordering = ["city", "street", "house"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "city", "street", "house"], name="building_unique_address"
            ),
            models.CheckConstraint(
                condition=Q(total_area__gt=0), name="building_total_area_positive"
            ),
        ]

    def __str__(self):
        return self.address

    @property
    def address(self) -> str:
        return f"{self.city}, {self.street}, д. {self.house}"

    def readings_window(self) -> tuple[int, int]:
        org = self.organization
        return (
            self.readings_day_from or org.readings_day_from,
            self.readings_day_to or org.readings_day_to,
        )


class Premises(models.Model):
    """A flat or non-residential premises («помещение») in a building."""

    class Kind(models.TextChoices):
        FLAT = "flat", _("квартира")
        NON_RESIDENTIAL = "non_residential", _("нежилое помещение")

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="premises", verbose_name=_("дом")
    )
    number = models.CharField(_("номер"), max_length=10)
    kind = models.CharField(_("вид"), max_length=20, choices=Kind.choices, default=Kind.FLAT)
    total_area = models.DecimalField(_("общая площадь, м²"), max_digits=8, decimal_places=2)
    living_area = models.DecimalField(
        _("жилая площадь, м²"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    rooms = models.PositiveSmallIntegerField(_("комнат"), null=True, blank=True)
    floor = models.SmallIntegerField(_("этаж"), null=True, blank=True)

    class Meta:
        verbose_name = _("помещение")
        verbose_name_plural = _("помещения")
        ordering = ["building", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="premises_unique_number"),
            models.CheckConstraint(condition=Q(total_area__gt=0), name="premises_area_positive"),
        ]

    def __str__(self):
        prefix = _("кв.") if self.kind == self.Kind.FLAT else _("пом.")
        return f"{self.building.address}, {prefix} {self.number}"


def new_link_code() -> str:
    """A short code printed on every receipt: the second fact that proves a holder has it."""
    alphabet = "ABCEHKMPTX23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class PersonalAccount(models.Model):
    """Personal account («лицевой счёт»): the billing unit of one premises and its payer."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("организация"),
    )
    number = models.CharField(
        _("номер ЛС"),
        max_length=20,
        validators=[RegexValidator(r"^\d{4,20}$", _("Номер лицевого счёта — от 4 до 20 цифр."))],
    )
    premises = models.ForeignKey(
        Premises, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("помещение")
    )
    holder_last_name = models.CharField(_("фамилия абонента"), max_length=60)
    holder_first_name = models.CharField(_("имя абонента"), max_length=60)
    holder_middle_name = models.CharField(_("отчество абонента"), max_length=60, blank=True)
    holder_phone = models.CharField(_("телефон абонента"), max_length=20, blank=True)
    residents = models.PositiveSmallIntegerField(_("проживает, чел."), default=1)
    share = models.DecimalField(
        _("доля площади"),
        max_digits=5,
        decimal_places=4,
        default=1,
        help_text=_("Доля площади помещения, по которой ведётся этот счёт."),
    )
    opened_on = models.DateField(_("открыт"))
    closed_on = models.DateField(_("закрыт"), null=True, blank=True)
    link_code = models.CharField(
        _("код для подключения к личному кабинету"), max_length=12, default=new_link_code
    )

    class Meta:
        verbose_name = _("лицевой счёт")
        verbose_name_plural = _("лицевые счета")
        ordering = ["organization", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="account_unique_number_per_organization"
            ),
            models.CheckConstraint(
                condition=Q(share__gt=0) & Q(share__lte=1), name="account_share_in_range"
            ),
        ]
        indexes = [
            models.Index(fields=["number"], name="account_number_idx"),
            models.Index(fields=["holder_last_name"], name="account_holder_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def holder_name(self) -> str:
        return " ".join(
            p for p in (self.holder_last_name, self.holder_first_name, self.holder_middle_name) if p
        )

    @property
    def area(self):
        return (self.premises.total_area * self.share).quantize(
            self.premises.total_area, rounding=ROUND_HALF_UP
        )

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class ImportJob(LeasedJob):
    """An uploaded registry file (docs/registry-format.md): checked, confirmed, then loaded.

    Both steps run on the task queue under a lease: the check (a dry run with its report), and
    after the operator's confirmation the load (all or nothing, in one transaction).
    """

    class Status(models.TextChoices):
        CHECKING = "checking", _("проверяется")
        CHECKED = "checked", _("проверен, ждёт подтверждения")
        REFUSED = "refused", _("отклонён")
        LOADING = "loading", _("загружается")
        DONE = "done", _("загружен")
        FAILED = "failed", _("ошибка")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("организация")
    )
    file_name = models.CharField(_("файл"), max_length=255)
    stored_as = models.CharField(_("сохранён как"), max_length=255)
    switch_month = models.DateField(_("месяц перехода"))
    status = models.CharField(
        _("статус"), max_length=10, choices=Status.choices, default=Status.CHECKING
    )
    step = models.CharField(_("этап"), max_length=40, blank=True)
    done = models.PositiveIntegerField(_("обработано строк"), default=0)
    total = models.PositiveIntegerField(_("строк на этапе"), default=0)
    report = models.JSONField(_("отчёт"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("загрузил"),
    )
    created_at = models.DateTimeField(_("загружен"), auto_now_add=True)
    finished_at = models.DateTimeField(_("завершён"), null=True, blank=True)

    class Meta:
        verbose_name = _("загрузка реестра")
        verbose_name_plural = _("загрузки реестра")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
