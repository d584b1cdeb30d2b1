"""Repeated views of an account page answered with 304 Not Modified (HTTP conditional requests).

The account card, charges and payments pages carry an ``ETag``: a digest of everything they
show, read in small queries the page shares with the tag (each is read once per request):

* the user (id, login), the page and the query parameters it reads, the language and today's
  date (the card says whether the due date has passed);
* the user's links with their accounts, premises, buildings and organizations (the switcher,
  the holder's name, the address);
* the fingerprint of the account's journal (count, last id and sum of its ``LedgerEntry`` rows):
  a billing run's charges, recalculations, penalties, payments imported or matched by hand;
* the organization's billing periods (opened, billed again — ``billed_at`` moves — or closed);
* what the page shows besides (``material``): the card, the last issued month's «why the sum
  changed» as it reads (frozen in the receipt, or computed for a month closed without it); the
  charges page, the organization's services with their providers (names) and the account's
  meters (the lines' explanations name their serial numbers; a bill change computed for a month
  without a frozen one names an expired verification); the payments page, nothing more;
* the CSRF secret of the browser (``CSRF_COOKIE``): the forms of a page kept by the browser
  carry a token masked from that secret, and any such token stays valid while the secret does.
  When it is rotated (sign-in) the tag changes and the page is sent anew, so a 304 never leaves
  a stale token behind.

A page with messages waiting for the user gets no tag (it is one of a kind). The digest is
per user: a tag of one user never matches for another, and an outsider gets the 404 of the
access check before any tag is compared (the view runs when no tag is computed).
"""

import functools
import hashlib
import operator

from django.contrib import messages
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.views.decorators.http import condition

from kvartplata.billing.bill_change import Explanation
from kvartplata.billing.models import LedgerEntry, Service
from kvartplata.cabinet.access import find_linked, request_links
from kvartplata.lib.db import Select
from kvartplata.lib.security import revalidate_only
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Period
from kvartplata.statements import selectors


@functools.cache
def _columns(model) -> operator.attrgetter:
    return operator.attrgetter(*(f.attname for f in model._meta.concrete_fields))


def _row(obj) -> tuple:
    """Every column of a model instance (what the page may show of it)."""
    return () if obj is None else _columns(type(obj))(obj)


def _once(request, name: str, key, read):
    """``read(key)`` once per request: the tag and the page share what it read."""
    kept = getattr(request, name, None)
    if kept is None or kept[0] != key:
        kept = (key, read(key))
        setattr(request, name, kept)
    return kept[1]


def request_periods(request, organization_id: int) -> list[Period]:
    """The organization's periods, read once per request."""
    return _once(request, "_cabinet_periods", organization_id, selectors.organization_periods)


def _service_rows(request, organization_id: int) -> list[tuple]:
    """The organization's services with their providers as rows (the tag), read once."""
    return _once(
        request, "_cabinet_service_rows", organization_id, selectors.organization_service_rows
    )


def request_services(request, organization_id: int) -> dict[int, Service]:
    """The organization's services with providers, read once per request (the charges page)."""
    return _once(
        request,
        "_cabinet_services",
        organization_id,
        lambda org: selectors.services_of(_service_rows(request, org)),
    )


# The journal's fingerprint and the account's meters, written once (no ORM compilation).
_JOURNAL = Select(
    f"SELECT COUNT(id), MAX(id), SUM(amount) FROM {LedgerEntry._meta.db_table}"  # noqa: S608
    " WHERE account_id = %s",
    [None, None, None],
)
_METERS = Select(
    f"SELECT id, next_verification_on, archived_on, serial_number FROM {Meter._meta.db_table}"  # noqa: S608
    " WHERE account_id = %s ORDER BY id",
    [None, None, None, None],
)


def request_bill_change(request, account, period: Period | None) -> Explanation | None:
    """Why the bill of the issued month `period` changed (`selectors.bill_change`), read once."""
    periods = request_periods(request, account.organization_id)
    return _once(
        request,
        "_cabinet_bill_change",
        (account.id, period.id if period else None),
        lambda _key: selectors.bill_change(account.id, periods, period),
    )


# What a page shows besides the account's journal, its links and the organization's months.
def card_material(request, account) -> str:
    """The card: the last issued month's «why the sum changed», as it reads (frozen or not)."""
    last = selectors.last_issued_of(request_periods(request, account.organization_id))
    return repr(request_bill_change(request, account, last))


def charges_material(request, account) -> tuple:
    """The charges: services and providers by name, and the meters the lines' explanations
    name (serial numbers) or the bill change computed for a month without a frozen one."""
    return (_service_rows(request, account.organization_id), _METERS.rows([account.id]))


def _csrf_secret(request) -> str:
    """The browser's CSRF secret (the cookie it sent back), else one made now.

    The first page of a browser creates the secret (its forms need one): create it now, so that
    the tag of this answer is the tag of the next request, which sends it back.
    """
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        get_token(request)
        secret = request.META.get("CSRF_COOKIE", "")
    return secret


def page_etag(request, account_id: int, page: str, params: tuple, material=None) -> str | None:
    """The tag of a page of the account, or None (not linked, or messages are waiting).

    ``material(request, account)``: what the page shows besides what every page does.
    """
    account = find_linked(request, account_id)
    if account is None or len(messages.get_messages(request)):
        return None
    links = [
        (
            _row(link),
            _row(link.account),
            _row(link.account.premises),
            _row(link.account.premises.building),
            _row(link.account.organization),
        )
        for link in request_links(request)
    ]
    periods = [_row(p) for p in request_periods(request, account.organization_id)]
    count, last, total = _JOURNAL.rows([account_id])[0]
    shown = (
        page,
        params,
        request.user.pk,
        request.user.get_username(),
        translation.get_language(),
        timezone.localdate().isoformat(),
        _csrf_secret(request),
        links,
        (count, last, str(total)),
        periods,
        material(request, account) if material else None,
    )
    digest = hashlib.blake2b(repr(shown).encode(), digest_size=20).hexdigest()
    return f'"{digest}"'


def revalidated(page: str, *params: str, material=None):
    """A page view answered with 304 when the browser's ``If-None-Match`` is its current tag.

    ``params``: the query parameters the page reads; ``material``: see `page_etag`.
    """

    def etag(request, account_id: int, **_kwargs) -> str | None:
        values = tuple(request.GET.get(name) for name in params)
        return page_etag(request, account_id, page, values, material)

    def decorate(view):
        conditional = condition(etag_func=etag)(view)

        @functools.wraps(view)
        def tagged(request, *args, **kwargs):
            response = conditional(request, *args, **kwargs)
            # A page with its tag may be kept by the browser, which then asks each time.
            if response.has_header("ETag"):
                revalidate_only(response)
            return response

        return tagged

    return decorate
