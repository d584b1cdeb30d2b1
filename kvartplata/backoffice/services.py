"""Back office services: the «Операторы» staff group and staff authenticators (TOTP)."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from kvartplata.users.models import User

# Roles as permission groups. The operator keeps the registry, the readings and the payments;
# the accountant runs the billing, reviews and closes the month and reads the reports; the
# administrator does both and keeps the staff. Ledger, charges, runs and receipts are written by
# services (billing run, imports, closing), so no role changes them by hand; global reference
# data (key rate, moratoria, coefficients) is kept by superusers.
ROLE_OPERATOR = "Операторы"
ROLE_ACCOUNTANT = "Бухгалтеры"
ROLE_ADMINISTRATOR = "Администраторы"
# The group `staff_group_setup` adds users to unless told otherwise: everything of the office.
STAFF_GROUP_NAME = ROLE_ADMINISTRATOR

_VIEW = ("view",)
_EDIT = ("view", "add", "change")
_REFERENCE_VIEW = {
    "billing.keyrate": _VIEW,
    "billing.moratorium": _VIEW,
    "billing.increasingcoefficient": _VIEW,
    "billing.billingrun": _VIEW,
    "billing.charge": _VIEW,
    "billing.ledgerentry": _VIEW,
    "receipts.receipt": _VIEW,
    "receipts.receiptdelivery": _VIEW,
}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    ROLE_OPERATOR: {
        **_REFERENCE_VIEW,
        "registry.organization": _VIEW,
        "registry.provider": _EDIT,
        "registry.building": _EDIT,
        "registry.premises": _EDIT,
        "registry.personalaccount": _EDIT,
        "billing.service": _VIEW,
        "billing.tariff": _VIEW,
        "billing.norm": _VIEW,
        "registry.period": _VIEW,
        "billing.recalculation": _VIEW,
        "meters.meter": _EDIT,
        "meters.reading": ("view", "add"),  # entered on a resident's behalf, imported
        # A receipt sent again to a resident from the account desk, a failed delivery retried.
        "receipts.receiptdelivery": ("view", "change"),
        "payments.bank": _VIEW,
        "payments.paymentfile": ("view", "add"),
        "payments.payment": ("view", "change"),
        "users.accountlink": ("view", "add", "delete"),
    },
    ROLE_ACCOUNTANT: {
        **_REFERENCE_VIEW,
        "registry.organization": _VIEW,
        "registry.provider": _VIEW,
        "registry.building": _VIEW,
        "registry.premises": _VIEW,
        "registry.personalaccount": _VIEW,
        "billing.service": _EDIT,
        "billing.tariff": ("view", "add", "change", "delete"),
        "billing.norm": ("view", "add", "change", "delete"),
        "registry.period": _EDIT,
        "billing.recalculation": ("view", "add"),
        "billing.accountbalance": _VIEW,
        "meters.meter": _VIEW,
        "meters.reading": _VIEW,
        "payments.bank": _VIEW,
        "payments.paymentfile": _VIEW,
        "payments.payment": _VIEW,
        # A failed delivery of the month's receipts retried (its issue is the period's close).
        "receipts.receiptdelivery": ("view", "change"),
    },
}


def _union(*roles: dict) -> dict[str, tuple[str, ...]]:
    merged: dict[str, list[str]] = {}
    for role in roles:
        for label, actions in role.items():
            merged.setdefault(label, [])
            merged[label] += [a for a in actions if a not in merged[label]]
    return {label: tuple(actions) for label, actions in merged.items()}


ROLE_PERMISSIONS[ROLE_ADMINISTRATOR] = _union(
    ROLE_PERMISSIONS[ROLE_OPERATOR],
    ROLE_PERMISSIONS[ROLE_ACCOUNTANT],
    {
        "registry.organization": ("view", "change"),
        "billing.recalculation": ("view", "add", "change", "delete"),
        "payments.bank": _EDIT,
        "users.user": ("view", "change"),
        "admin.logentry": _VIEW,
    },
)
# What the administrator holds (kept under its old name for callers).
STAFF_GROUP_PERMISSIONS = ROLE_PERMISSIONS[ROLE_ADMINISTRATOR]


def staff_group_permission_codes(role: str = STAFF_GROUP_NAME) -> list[tuple[str, str]]:
    """(app_label, codename) of every permission the role's group holds."""
    codes = []
    for label, actions in ROLE_PERMISSIONS[role].items():
        app_label, model = label.split(".")
        codes.extend((app_label, f"{action}_{model}") for action in actions)
    return codes


@transaction.atomic
def staff_group_setup(*, usernames: Sequence[str] = (), role: str = STAFF_GROUP_NAME) -> Group:
    """Create or bring up to date the three role groups; add the given users to `role`'s.

    Permissions beyond the lists are removed, so each group is exactly what this module says.
    Returns the group of `role`.
    """
    if role not in ROLE_PERMISSIONS:
        raise LookupError(f"Нет такой роли «{role}».")
    users = []
    for username in usernames:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise LookupError(f"Пользователь «{username}» не найден.")
        users.append(user)
    groups = {}
    for name in ROLE_PERMISSIONS:
        wanted = staff_group_permission_codes(name)
        condition = Q(pk__in=[])
        for app_label, codename in wanted:
            condition |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(condition).select_related("content_type"))
        missing = set(wanted) - {(p.content_type.app_label, p.codename) for p in permissions}
        if missing:
            # Permissions are created after migrations; a missing one means migrate has not run.
            raise LookupError(f"Нет прав {sorted(missing)}: сначала выполните migrate.")
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
        groups[name] = group
    groups[role].user_set.add(*users)
    return groups[role]


# --- two-factor sign-in (TOTP) ---------------------------------------------------------------


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a one-time code: the device that accepted it, or why not."""

    device: TOTPDevice | None
    throttled: bool = False


def totp_token_check(*, user: User, token: str) -> TokenCheck:
    """Check a code against the user's confirmed authenticators (counts failures, throttles)."""
    token = (token or "").strip().replace(" ", "")
    throttled = False
    # The rows are locked so that the same code cannot be accepted twice by parallel requests;
    # the failure counter is committed even though the sign-in fails.
    with transaction.atomic():
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices:
            allowed, _details = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if token.isdigit() and device.verify_token(token):
                return TokenCheck(device=device)
            if not token.isdigit():
                device.throttle_increment(commit=True)
    return TokenCheck(device=None, throttled=throttled)


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """A new unconfirmed authenticator with a fresh key; earlier unconfirmed ones are dropped."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Приложение-аутентификатор", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: User, token: str) -> TokenCheck:
    """Confirm the pending authenticator with a code from it; it replaces any older one."""
    token = (token or "").strip().replace(" ", "")
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None:
        return TokenCheck(device=None)
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        return TokenCheck(device=None, throttled=True)
    if not token.isdigit() or not device.verify_token(token):
        if not token.isdigit():
            device.throttle_increment(commit=True)
        return TokenCheck(device=None)
    # One authenticator per person: a new phone replaces the old one.
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return TokenCheck(device=device)


# --- the month page: run and close with their guards -------------------------------------------


def month_run_start(*, period, user, seen_run_id: int | None, request=None):
    """Start (or rerun) the billing of the open period from the month page.

    `seen_run_id` is the last run the operator saw on the page: if another run has been
    started since (a double click, a colleague), nothing starts again.
    """
    from kvartplata.backoffice.month import last_run
    from kvartplata.billing.services import BillingError, billing_run_start
    from kvartplata.users.audit import audit

    latest = last_run(period)
    if latest is not None and latest.id != seen_run_id:
        raise BillingError("Начисление уже запущено: смотрите его ход на странице.")
    if period.state == period.State.CLOSED:
        raise BillingError("Период закрыт: начисление невозможно.")
    run = billing_run_start(organization=period.organization, user=user)
    audit("billing_run_started", request=request, user=user, period=str(period), run=run.id)
    return run


def month_close(*, period_id: int, organization, user, reason: str, today, request=None):
    """Close the period from the month page: issued receipts, the next month opens.

    Refused before the readings window has ended unless `reason` says why; refused for a
    period already closed (a double click does nothing twice). Kept in the audit log.
    """
    from kvartplata.backoffice.closing import period_close_with_receipts
    from kvartplata.backoffice.month import readings_window_end
    from kvartplata.billing.services import BillingError
    from kvartplata.registry.models import Period
    from kvartplata.users.audit import audit

    reason = (reason or "").strip()
    with transaction.atomic():
        period = (
            Period.objects.select_for_update()
            .select_related("organization")
            .filter(id=period_id, organization=organization)
            .first()
        )
        if period is None:
            raise BillingError("Нет такого периода.")
        if period.state == Period.State.CLOSED:
            raise BillingError("Период уже закрыт.")
        if period.state != Period.State.BILLED:
            raise BillingError("Сначала выполните начисление за период.")
        window_end = readings_window_end(period)
        early = today <= window_end
        if early and not reason:
            raise BillingError(
                f"Приём показаний идёт до {window_end:%d.%m.%Y}: закрыть период раньше можно, "
                "только указав причину."
            )
        closed = period_close_with_receipts(organization=organization, user=user)
        audit(
            "period_closed",
            request=request,
            user=user,
            period=str(period.month),
            early=early,
            reason=repr(reason[:500]),
        )
    return closed
