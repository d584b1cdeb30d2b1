"""Access to accounts in the cabinet: only accounts linked to the signed-in user, else 404."""

from django.http import Http404
from django.urls import get_script_prefix, get_urlconf, reverse

from kvartplata.lib.db import Select
from kvartplata.registry.models import Building, Organization, PersonalAccount, Premises
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
# Reversed once with this id in place of the account's; the page puts the real one in.
_ID_MARK = "987654321987654321"
_section_urls: dict[tuple, list[tuple[str, str, str]]] = {}


def section_links(account_id: int) -> list[tuple[str, str, str]]:
    """(URL name, label, URL) of every section of an account: 7 reverses a page saved."""
    key = (get_script_prefix(), get_urlconf())
    marked = _section_urls.get(key)
    if marked is None:
        marked = [
            (name, label, reverse(name, kwargs={"account_id": int(_ID_MARK)}))
            for name, label in SECTIONS
        ]
        _section_urls[key] = marked
    number = str(account_id)
    return [(name, label, url.replace(_ID_MARK, number)) for name, label, url in marked]


def request_links(request) -> list[AccountLink]:
    """The signed-in user's links with their accounts, read once per request (1 query)."""
    links = getattr(request, "_cabinet_links", None)
    if links is None:
        links = user_links(request.user)
        request._cabinet_links = links
    return links


def find_linked(request, account_id: int) -> PersonalAccount | None:
    """The account if it is one of the user's linked accounts, else None (no side effects)."""
    if not request.user.is_authenticated:
        return None
    return next(
        (link.account for link in request_links(request) if link.account_id == account_id), None
    )


def linked_account(request, account_id: int) -> PersonalAccount:
    """The account if it is linked to the user (remembered as the chosen one); otherwise 404.

    The one access check of every resident page of an account (cabinet, meters, receipts).
    """
    account = find_linked(request, account_id)
    if account is None:
        raise Http404("Нет такого лицевого счёта среди ваших.")
    # Remembered for the next visit only when there is a choice: a page view of a resident's
    # only account writes nothing to the session.
    if len(request_links(request)) > 1 and request.session.get(SESSION_KEY) != account.id:
        request.session[SESSION_KEY] = account.id
    return account


_LINKS = Select.joined(
    [
        (AccountLink, "l"),
        (PersonalAccount, "a"),
        (Premises, "p"),
        (Building, "b"),
        (Organization, "o"),
    ],
    f"FROM {AccountLink._meta.db_table} l"  # noqa: S608 - fixed identifiers
    f" JOIN {PersonalAccount._meta.db_table} a ON a.id = l.account_id"
    f" JOIN {Premises._meta.db_table} p ON p.id = a.premises_id"
    f" JOIN {Building._meta.db_table} b ON b.id = p.building_id"
    f" JOIN {Organization._meta.db_table} o ON o.id = a.organization_id"
    " WHERE l.user_id = %s ORDER BY l.created_at, l.id",
)


def user_links(user) -> list[AccountLink]:
    """The user's links with their accounts, premises, buildings and organizations (1 query)."""
    links = []
    for link, account, premises, building, organization in _LINKS.instances_joined([user.pk]):
        premises.building = building
        account.premises = premises
        account.organization = organization
        link.account = account
        links.append(link)
    return links


def page_context(request, account: PersonalAccount, section: str, *, links=None, **extra) -> dict:
    """What every account page shows around its content: the switcher and the sections."""
    if links is None:
        links = request_links(request)
    return {
        "account": account,
        "links": links,
        "section": section,
        "sections": section_links(account.pk),
        **extra,
    }
