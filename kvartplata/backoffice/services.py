"""Back office set-up: the «Операторы» staff group and its permissions."""

from collections.abc import Sequence

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from kvartplata.users.models import User

STAFF_GROUP_NAME = "Операторы"

# What a billing operator does day to day. Ledger, charges, runs and receipts are written by
# services (billing run, imports, closing), so the group only views them; global reference
# data (key rate, moratoria) is kept by superusers.
STAFF_GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "registry.organization": ("view", "change"),
    "registry.provider": ("view", "add", "change"),
    "registry.building": ("view", "add", "change"),
    "registry.premises": ("view", "add", "change"),
    "registry.personalaccount": ("view", "add", "change"),
    "billing.service": ("view", "add", "change"),
    "billing.tariff": ("view", "add", "change", "delete"),
    "billing.norm": ("view", "add", "change", "delete"),
    "billing.period": ("view", "add", "change"),
    "billing.billingrun": ("view",),
    "billing.charge": ("view",),
    "billing.recalculation": ("view", "add", "change", "delete"),
    "billing.ledgerentry": ("view",),
    "billing.accountbalance": ("view",),
    "billing.keyrate": ("view",),
    "billing.moratorium": ("view",),
    "meters.meter": ("view", "add", "change"),
    "meters.reading": ("view",),
    "payments.bank": ("view", "add", "change"),
    "payments.paymentfile": ("view",),
    "payments.payment": ("view",),
    "receipts.receipt": ("view",),
    "receipts.receiptdelivery": ("view",),
    "users.user": ("view", "change"),
    "users.accountlink": ("view", "add", "delete"),
    "admin.logentry": ("view",),
}


def staff_group_permission_codes() -> list[tuple[str, str]]:
    """(app_label, codename) of every permission the group holds."""
    codes = []
    for label, actions in STAFF_GROUP_PERMISSIONS.items():
        app_label, model = label.split(".")
        codes.extend((app_label, f"{action}_{model}") for action in actions)
    return codes


@transaction.atomic
def staff_group_setup(*, usernames: Sequence[str] = ()) -> Group:
    """Create or bring up to date the «Операторы» group and add the given users to it.

    Permissions beyond the list are removed, so the group is exactly what this module says.
    """
    condition = Q(pk__in=[])
    for app_label, codename in staff_group_permission_codes():
        condition |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(condition).select_related("content_type"))
    missing = set(staff_group_permission_codes()) - {
        (p.content_type.app_label, p.codename) for p in permissions
    }
    if missing:
        # Permissions are created after migrations; a missing one means migrate has not run.
        raise LookupError(f"Нет прав {sorted(missing)}: сначала выполните migrate.")
    users = []
    for username in usernames:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise LookupError(f"Пользователь «{username}» не найден.")
        users.append(user)
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    group.permissions.set(permissions)
    group.user_set.add(*users)
    return group
