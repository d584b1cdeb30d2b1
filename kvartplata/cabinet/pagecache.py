"""The account pages of the cabinet, rendered once per change of what they show.

The account card, charges and payments pages cost 10–15 ms to build (ORM, templates) against
about 1 ms for Django's own request cycle, so they are kept rendered in the cache and served from
it while nothing they show has changed. Every request still checks access first, with two small
queries: the user's links with their accounts (a linked account, or 404) and a fingerprint of the
account's journal, then the organization's billing periods. The page is rebuilt as soon as:

* anything is posted to or removed from the account's journal (the charges of a billing run,
  recalculations, penalties, payments imported or matched by hand): count, last id and sum;
* a period of the organization opens, is billed (again: ``billed_at`` moves) or closes;
* the account or any of the user's links changes (their rows are part of the key);
* an organization, building or premises is saved or deleted (a stamp that the signals below
  renew — in every process at once when the cache is shared, as Redis is in production);
* the day changes (the account card says whether the due date has passed).

What a page shows that is none of those — the names of services and providers on the charges
page — is refreshed by the time-out (``CABINET_PAGE_CACHE_SECONDS``, 10 minutes; 0 turns the
cache off). The pages are cached per user, not per session: the CSRF token of the forms on them
is put in on every answer. A page that carries a message for the user is never cached.
"""

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kvartplata.billing.models import LedgerEntry, Period
from kvartplata.cabinet.access import SESSION_KEY, user_links
from kvartplata.registry.models import PersonalAccount
from kvartplata.users.models import AccountLink

DEFAULT_SECONDS = 600
KEY_PREFIX = "cabinet:page:v1"
STAMP_KEY = "cabinet:page:registry-stamp"
# Stands for the CSRF token in the cached HTML; no login, number or name can contain "⟦".
CSRF_PLACEHOLDER = "⟦csrf-token⟧"


def cache_seconds() -> int:
    return int(getattr(settings, "CABINET_PAGE_CACHE_SECONDS", DEFAULT_SECONDS))


def page_cache():
    """The default cache, or the one named by ``CABINET_PAGE_CACHE_ALIAS``.

    A cache of its own keeps the pages from pushing other entries (allauth's rate limits) out
    of a size-limited local-memory cache.
    """
    return caches[getattr(settings, "CABINET_PAGE_CACHE_ALIAS", "default")]


# --- the registry stamp ---------------------------------------------------------------------


def renew_registry_stamp(**_kwargs) -> None:
    """Every cached page is stale: an organization, building or premises has changed.

    Connected to their post_save and post_delete signals in ``apps.CabinetConfig.ready``.
    Renewed once the change is committed, so that no page is built from the old rows under
    the new stamp.
    """
    transaction.on_commit(lambda: page_cache().set(STAMP_KEY, secrets.token_hex(8), None))


def _stamp(cache, found) -> str:
    # Never missing: a page kept under one stamp must not match after an eviction of the stamp.
    if found is None:
        cache.add(STAMP_KEY, secrets.token_hex(8), None)
        found = cache.get(STAMP_KEY)
    return found


# --- the access check and the fingerprint ---------------------------------------------------


def _columns(alias: str, model) -> list[str]:
    return [f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclass(frozen=True)
class _Queries:
    links: str  # the user's links with their accounts, and the journal's fingerprint
    periods: str  # the billing periods of an organization
    account_at: int  # where the link's account id is in a row of `links`
    organization_at: int  # where the account's organization id is


@functools.cache
def _queries() -> _Queries:
    """The two queries of the check, built once per process from the models' own metadata.

    Plain SQL, not the ORM: they run on every request, and each ORM query costs more to
    compile than to run. Few tables a query keep PostgreSQL's planning short as well.
    """
    q = connection.ops.quote_name
    link = AccountLink._meta
    account = PersonalAccount._meta
    entry = LedgerEntry._meta
    period = Period._meta

    def column(meta, name: str) -> str:
        return q(meta.get_field(name).column)

    columns = ", ".join(_columns("l", AccountLink) + _columns("a", PersonalAccount))
    # One row per link; the journal's fingerprint is computed once (an uncorrelated subquery).
    # Only table and column names from the models' _meta are formatted in; values are bound.
    links = (
        f"SELECT {columns}, j.n, j.m, j.t "  # noqa: S608  # nosec B608
        f"FROM {_table(AccountLink)} l "
        f"JOIN {_table(PersonalAccount)} a ON a.{q(account.pk.column)} = "
        f"l.{column(link, 'account')} "
        f"CROSS JOIN (SELECT COUNT(*) AS n, MAX({q(entry.pk.column)}) AS m, "
        f"SUM({column(entry, 'amount')}) AS t FROM {_table(LedgerEntry)} "
        f"WHERE {column(entry, 'account')} = %s) j "
        f"WHERE l.{column(link, 'user')} = %s "
        f"ORDER BY l.{column(link, 'created_at')}, l.{q(link.pk.column)}"
    )
    periods = (
        f"SELECT {', '.join(_columns('x', Period))} "  # noqa: S608  # nosec B608
        f"FROM {_table(Period)} x WHERE x.{column(period, 'organization')} = %s "
        f"ORDER BY x.{column(period, 'month')}, x.{q(period.pk.column)}"
    )
    link_fields = [f.attname for f in link.concrete_fields]
    account_fields = [f.attname for f in account.concrete_fields]
    return _Queries(
        links=links,
        periods=periods,
        account_at=link_fields.index("account_id"),
        organization_at=len(link_fields) + account_fields.index("organization_id"),
    )


@dataclass(frozen=True)
class Access:
    """A linked account of the signed-in user and the fingerprint of what its pages show."""

    account_id: int
    organization_id: int
    fingerprint: tuple


def check_access(request, account_id: int) -> Access:
    """The account if it is linked to the user, with its fingerprint (2 queries); else 404.

    Like ``access.linked_account`` it remembers the account as the chosen one.
    """
    queries = _queries()
    with connection.cursor() as cursor:
        cursor.execute(queries.links, [account_id, request.user.pk])
        rows = cursor.fetchall()
        mine = next((row for row in rows if row[queries.account_at] == account_id), None)
        if mine is None:
            raise Http404("Нет такого лицевого счёта среди ваших.")
        organization_id = mine[queries.organization_at]
        cursor.execute(queries.periods, [organization_id])
        periods = cursor.fetchall()
    if request.session.get(SESSION_KEY) != account_id:
        request.session[SESSION_KEY] = account_id
    return Access(
        account_id=account_id,
        organization_id=organization_id,
        fingerprint=(tuple(rows), tuple(periods)),
    )


def page_key(request, access: Access, page: str, params: tuple) -> str:
    material = (
        page,
        params,
        request.user.pk,
        request.user.get_username(),
        translation.get_language(),
        timezone.localdate().isoformat(),
        access.fingerprint,
    )
    digest = hashlib.blake2b(repr(material).encode(), digest_size=20).hexdigest()
    return f"{KEY_PREFIX}:{page}:{request.user.pk}:{access.account_id}:{digest}"


# --- the page -------------------------------------------------------------------------------


def _answer(request, html: str) -> HttpResponse:
    # get_token also tells the CSRF middleware to send the cookie, as {% csrf_token %} does.
    return HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))


Builder = Callable[..., tuple[str, dict]]


def cached_page(request, account_id: int, page: str, params: tuple, build: Builder) -> HttpResponse:
    """The page from the cache, or built by ``build(request, account, links)`` and kept.

    ``params`` are the query parameters the page reads (they are part of the key); ``build``
    returns the template name and its context.
    """
    access = check_access(request, account_id)
    seconds = cache_seconds()
    storage = messages.get_messages(request)
    cache = page_cache()
    key = stamp = None
    # Messages waiting for the user make the page one of a kind: build it, keep nothing.
    if seconds > 0 and not len(storage):
        key = page_key(request, access, page, params)
        found = cache.get_many([key, STAMP_KEY])  # one round trip to a shared cache
        stamp = _stamp(cache, found.get(STAMP_KEY))
        kept = found.get(key)
        if kept is not None and kept[0] == stamp:
            return _answer(request, kept[1])
    # The links with their organizations: the page's account is one of them (one query less).
    links = user_links(request.user, organization=True)
    account = next((link.account for link in links if link.account_id == account_id), None)
    if account is None:  # unlinked between the two queries
        raise Http404("Нет такого лицевого счёта среди ваших.")
    template, context = build(request, account, links)
    html = render_to_string(template, {**context, "csrf_token": CSRF_PLACEHOLDER}, request)
    # A page that warns about something (a month without data, …) is not kept either.
    if key is not None and not len(storage):
        cache.set(key, (stamp, html), seconds)
    return _answer(request, html)
