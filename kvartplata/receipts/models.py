"""Receipts («платёжный документ», ЕПД): frozen snapshots issued when a month closes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kvartplata.billing.models import MONEY
from kvartplata.lib.leases import LeasedJob
from kvartplata.registry.models import Organization, Period, PersonalAccount


class Receipt(models.Model):
    """An issued payment document; its data never change once it is saved."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("организация"),
    )
    account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("ЛС")
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("период")
    )
    month = models.DateField(_("месяц"))
    number = models.PositiveBigIntegerField(_("номер"))
    issued_at = models.DateTimeField(_("выпущена"))
    total_due = models.DecimalField(_("к оплате"), **MONEY)
    data = models.JSONField(_("содержание"))

    class Meta:
        verbose_name = _("квитанция")
        verbose_name_plural = _("квитанции")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="receipt_one_per_month"),
            models.UniqueConstraint(
                fields=["organization", "number"], name="receipt_number_unique"
            ),
        ]
        indexes = [models.Index(fields=["account", "month"], name="receipt_account_month_idx")]

    def __str__(self):
        return f"№ {self.number} ({self.month:%m.%Y})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError(_("Выпущенная квитанция не изменяется."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Выпущенная квитанция не удаляется."))


class ReceiptDelivery(LeasedJob):
    """One e-mailing of a receipt to a subscribed user: never twice, retried on failure."""

    class Status(models.TextChoices):
        PENDING = "pending", _("ожидает")
        # Claimed by a worker and being sent: no other worker may send it too.
        SENDING = "sending", _("отправляется")
        SENT = "sent", _("отправлено")
        FAILED = "failed", _("ошибка")

    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("квитанция")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="receipt_deliveries",
        verbose_name=_("пользователь"),
    )
    email = models.EmailField(_("e-mail"))
    status = models.CharField(
        _("статус"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    last_error = models.TextField(_("ошибка"), blank=True)
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)
    sent_at = models.DateTimeField(_("отправлено"), null=True, blank=True)

    class Meta:
        verbose_name = _("рассылка квитанции")
        verbose_name_plural = _("рассылка квитанций")
        constraints = [
            models.UniqueConstraint(fields=["receipt", "user"], name="delivery_once_per_user")
        ]

    def __str__(self):
        return f"{self.receipt} → {self.email}"
