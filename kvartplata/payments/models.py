"""Payments: banks' registry files, the payments they carry and their matching to accounts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kvartplata.billing.models import MONEY
from kvartplata.lib.leases import LeasedJob
from kvartplata.registry.models import Organization, Period, PersonalAccount


class Bank(models.Model):
    """A bank or payment agent and the layout of its registry files (a setting, not code)."""

    class Encoding(models.TextChoices):
        AUTO = "auto", _("определить автоматически")
        CP1251 = "cp1251", "windows-1251"
        UTF8 = "utf-8", "UTF-8"
        KOI8R = "koi8-r", "KOI8-R"
        CP866 = "cp866", "cp866 (DOS)"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="banks", verbose_name=_("организация")
    )
    name = models.CharField(_("название"), max_length=80)
    code = models.SlugField(_("код"), max_length=30)
    encoding = models.CharField(
        _("кодировка"), max_length=10, choices=Encoding.choices, default=Encoding.AUTO
    )
    delimiter = models.CharField(_("разделитель"), max_length=1, default=";")
    columns = models.JSONField(
        _("колонки"),
        default=dict,
        help_text=_(
            "Номер колонки (с 0) для полей: paid_at, operation_id, account, payer, address, "
            "month, amount, commission."
        ),
    )
    date_format = models.CharField(_("формат даты"), max_length=30, default="%d.%m.%Y %H:%M:%S")
    footer_prefix = models.CharField(
        _("признак итоговой строки"), max_length=10, default="=", blank=True
    )
    header_lines = models.PositiveSmallIntegerField(
        _("строк заголовка"),
        default=0,
        help_text=_("Сколько строк в начале файла пропустить (названия колонок)."),
    )

    class Meta:
        verbose_name = _("банк")
        verbose_name_plural = _("банки")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="bank_unique_code")
        ]

    def __str__(self):
        return self.name


class PaymentFile(LeasedJob):
    """A bank's registry file: imported whole or refused whole, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("в очереди")
        PROCESSING = "processing", _("загружается")
        IMPORTED = "imported", _("загружен")
        REFUSED = "refused", _("отклонён")

    bank = models.ForeignKey(
        Bank, on_delete=models.PROTECT, related_name="files", verbose_name=_("банк")
    )
    name = models.CharField(_("файл"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("размер, байт"), default=0)
    status = models.CharField(
        _("статус"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    lines_total = models.PositiveIntegerField(_("строк"), default=0)
    lines_imported = models.PositiveIntegerField(_("загружено"), default=0)
    lines_duplicate = models.PositiveIntegerField(_("повторов"), default=0)
    lines_unmatched = models.PositiveIntegerField(_("не сопоставлено"), default=0)
    amount_total = models.DecimalField(_("сумма"), default=0, **MONEY)
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
        verbose_name = _("реестр платежей")
        verbose_name_plural = _("реестры платежей")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.name


class Payment(models.Model):
    """Money received for an account («платёж»), once per bank's natural key.

    Every reference is a FOREIGN KEY in the database too: money is never booked against a row
    that does not exist (PostgreSQL checks them at commit). Nothing looks payments up by file,
    so that reference has no index (one index less to write per line).
    """

    class Status(models.TextChoices):
        MATCHED = "matched", _("зачтён")
        UNMATCHED = "unmatched", _("не сопоставлен")
        RETURNED = "returned", _("возвращён")

    class Channel(models.TextChoices):
        BANK = "bank", _("банк")
        ONLINE = "online", _("онлайн")
        CASH = "cash", _("касса")
        STAFF = "staff", _("оператор")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("организация"),
        db_index=False,
    )
    bank = models.ForeignKey(
        Bank,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("банк"),
        db_index=False,
    )
    file = models.ForeignKey(
        PaymentFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("реестр"),
        db_index=False,  # the import finds a file's new payments by their ids
    )
    natural_key = models.CharField(_("ключ операции"), max_length=160)
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("ЛС"),
        db_index=False,
    )
    account_number = models.CharField(_("номер ЛС в реестре"), max_length=40)
    payer_name = models.CharField(_("плательщик"), max_length=160, blank=True)
    address = models.CharField(_("адрес"), max_length=255, blank=True)
    paid_at = models.DateTimeField(_("дата оплаты"))
    amount = models.DecimalField(_("сумма"), **MONEY)
    commission = models.DecimalField(_("комиссия"), default=0, **MONEY)
    for_month = models.DateField(_("за месяц"), null=True, blank=True)
    # The payee the payer named (the ledger pays only its debts); None: not named.
    provider = models.ForeignKey(
        "registry.Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("получатель"),
        db_index=False,
    )
    channel = models.CharField(
        _("канал"), max_length=10, choices=Channel.choices, default=Channel.BANK
    )
    status = models.CharField(
        _("статус"), max_length=10, choices=Status.choices, default=Status.MATCHED
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("проведён в периоде"),
        db_index=False,
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("сопоставил"),
        db_index=False,
    )
    matched_at = models.DateTimeField(_("сопоставлен"), null=True, blank=True)

    class Meta:
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")
        ordering = ["-paid_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "bank", "natural_key"], name="payment_once_per_bank_key"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["account", "paid_at"], name="payment_account_date_idx"),
            # The queue of unmatched payments is small; the rest never needs a status index.
            models.Index(
                fields=["organization", "paid_at"],
                condition=Q(status="unmatched"),
                name="payment_unmatched_idx",
            ),
        ]

    def __str__(self):
        return f"{self.account_number} {self.amount} {self.paid_at:%d.%m.%Y}"
