"""Cabinet logins of residents and staff, and the links between users and personal accounts."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kvartplata.registry.models import Organization, PersonalAccount


class User(AbstractUser):
    """A login of a resident (cabinet) or of a staff member (back office)."""

    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)
    phone = models.CharField(_("телефон"), max_length=20, blank=True)
    receipts_by_email = models.BooleanField(_("получать квитанции по e-mail"), default=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("организация сотрудника"),
    )
    consent_version = models.CharField(
        _("версия согласия на обработку ПДн"), max_length=20, blank=True
    )
    consent_at = models.DateTimeField(_("согласие дано"), null=True, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_ci_unique",
            ),
        ]

    def __str__(self):
        return self.username


class AccountLink(models.Model):
    """A personal account linked to a user's cabinet; one account may have several users."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="account_links",
        verbose_name=_("пользователь"),
    )
    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="links", verbose_name=_("ЛС")
    )
    created_at = models.DateTimeField(_("привязан"), auto_now_add=True)

    class Meta:
        verbose_name = _("привязка ЛС")
        verbose_name_plural = _("привязки ЛС")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="link_once_per_user")
        ]

    def __str__(self):
        return f"{self.user} → {self.account}"


class LinkAttempt(models.Model):
    """A failed attempt to link an account: at most a few per user and hour."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    number = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("неудачная попытка привязки")
        verbose_name_plural = _("неудачные попытки привязки")

    def __str__(self):
        return f"{self.user_id}: {self.number}"
