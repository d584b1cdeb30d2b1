"""Writes of the cabinet: linking a personal account to a login («Добавить лицевой счёт»)."""

import datetime
import hmac
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from kvartplata.billing.models import AccountBalance
from kvartplata.receipts.models import Receipt
from kvartplata.registry.models import Organization, PersonalAccount
from kvartplata.registry.selectors import number_lengths, number_variants
from kvartplata.users.audit import audit
from kvartplata.users.models import AccountLink, LinkAttempt, User

LINK_ATTEMPTS_PER_HOUR = 5
# The same answer for an unknown number and a wrong proof: a number alone reveals nothing.
WRONG_PROOF = (
    "Лицевой счёт с таким номером и подтверждением не найден. Проверьте номер лицевого счёта "
    "и код (или сумму) с последней квитанции."
)
ALREADY_LINKED = "Этот лицевой счёт уже привязан к вашему кабинету."
TOO_MANY = (
    "Слишком много неудачных попыток привязать лицевой счёт. Повторите через {minutes} мин. "
    "или обратитесь в управляющую организацию."
)


class LinkError(Exception):
    """A refused link; the message is for the resident (Russian)."""


def normalize_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def parse_amount(value: str) -> Decimal | None:
    """An amount as people type it: «1 234,56», «1234.56 ₽», «1234,5 руб.»; None if it is not."""
    text = re.sub(r"[\s\u00a0\u202f]", "", value or "").lower()
    text = re.sub(r"(₽|руб\.?|р\.?)$", "", text).replace(",", ".")
    if not re.fullmatch(r"-?\d{1,12}(\.\d{1,2})?", text):
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def last_receipt_total(account: PersonalAccount) -> Decimal | None:
    """The total of the account's last issued receipt; before any receipt, the last closing."""
    total = (
        Receipt.objects.filter(account=account)
        .order_by("-month")
        .values_list("total_due", flat=True)
        .first()
    )
    if total is None:
        total = (
            AccountBalance.objects.filter(account=account, period__state="closed")
            .order_by("-month")
            .values_list("closing", flat=True)
            .first()
        )
    return total


def proof_matches(account: PersonalAccount, proof: str) -> bool:
    """Whether the proof is what this account's organization prints on its receipts."""
    if account.organization.link_proof == Organization.LinkProof.RECEIPT_TOTAL:
        typed = parse_amount(proof)
        expected = last_receipt_total(account)
        return typed is not None and expected is not None and typed == expected
    typed = re.sub(r"[\s-]", "", proof or "").upper()
    return bool(typed) and hmac.compare_digest(typed.encode(), account.link_code.upper().encode())


def failed_attempts(user: User, *, now: datetime.datetime) -> int:
    since = now - datetime.timedelta(hours=1)
    return LinkAttempt.objects.filter(user=user, created_at__gte=since).count()


def minutes_until_retry(user: User, *, now: datetime.datetime) -> int:
    since = now - datetime.timedelta(hours=1)
    oldest = (
        LinkAttempt.objects.filter(user=user, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if oldest is None:
        return 1
    left = oldest + datetime.timedelta(hours=1) - now
    return max(1, int(left.total_seconds() // 60) + 1)


def account_link(*, user: User, number: str, proof: str, request=None) -> AccountLink:
    """Link the account with this number to the user if the proof from the receipt matches.

    At most LINK_ATTEMPTS_PER_HOUR wrong tries per user and hour. A failed try is recorded in
    its own transaction so that the refusal does not roll it back.
    """
    number = normalize_number(number)
    now = timezone.now()
    with transaction.atomic():
        # Serialize a user's attempts so that parallel requests cannot exceed the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if failed_attempts(user, now=now) >= LINK_ATTEMPTS_PER_HOUR:
            raise LinkError(TOO_MANY.format(minutes=minutes_until_retry(user, now=now)))
        # «100018» finds «0000100018»: the leading zeros are easy to drop when typing.
        variants = number_variants(number, number_lengths())
        candidates = list(
            PersonalAccount.objects.filter(number__in=variants).select_related("organization")
        )
        linked_ids = set(
            AccountLink.objects.filter(user=user, account__number__in=variants).values_list(
                "account_id", flat=True
            )
        )
        matched = [a for a in candidates if proof_matches(a, proof)]
        fresh = [a for a in matched if a.id not in linked_ids]
        if fresh:
            account = fresh[0]
            link = AccountLink.objects.create(user=user, account=account)
            audit("account_linked", request=request, user=user, account_id=account.id)
            return link
        if linked_ids:
            # The user holds this account already: saying so reveals nothing new.
            raise LinkError(ALREADY_LINKED)
        LinkAttempt.objects.create(user=user, number=number[:40])
    audit("account_link_failed", request=request, user=user)
    raise LinkError(WRONG_PROOF)
