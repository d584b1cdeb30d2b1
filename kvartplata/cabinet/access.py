"""Access to accounts in the cabinet: only accounts linked to the signed-in user, else 404."""

from django.shortcuts import get_object_or_404

from kvartplata.registry.models import PersonalAccount
from kvartplata.users.models import AccountLink

SESSION_KEY = "cabinet_account"

# Sections of an account's pages: (URL name, menu label). The switcher keeps the section.
SECTIONS = [
    ("cabinet:account", "Счёт"),
    ("cabinet:services", "Услуги и тарифы"),
    ("cabinet:charges", "Начисления"),
    ("cabinet:payments", "Платежи"),
    ("cabinet:receipts:receipt_list", "Квитанции"),
    ("cabinet:charts", "Графики"),
    ("cabinet:meters:meter_list", "Показания счётчиков"),
]
SECTION_NAMES = {name for name, _label in SECTIONS}


def linked_account(request, account_id: int) -> PersonalAccount:
    """The account if it is linked to the user (remembered as the chosen one); otherwise 404."""
    account = get_object_or_404(
        PersonalAccount.objects.select_related("organization", "premises__building"),
        pk=account_id,
        links__user=request.user,
    )
    if request.session.get(SESSION_KEY) != account.id:
        request.session[SESSION_KEY] = account.id
    return account


def user_links(user) -> list[AccountLink]:
    return list(
        AccountLink.objects.filter(user=user)
        .select_related("account__premises__building")
        .order_by("created_at", "id")
    )


def page_context(request, account: PersonalAccount, section: str, **extra) -> dict:
    """What every account page shows around its content: the switcher and the sections."""
    links = user_links(request.user)
    return {
        "account": account,
        "links": links,
        "section": section,
        "sections": SECTIONS,
        **extra,
    }
