"""Candidate accounts for an unmatched payment: by the number's likeness, the address and the
payer's surname from the bank line. Three small indexed queries, ranked here."""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db.models import Q

from kvartplata.registry.models import PersonalAccount

LIMIT = 5
PER_QUERY = 50
_WORD = re.compile(r"[А-Яа-яЁёA-Za-z][А-Яа-яЁёA-Za-z-]{3,}")
_FLAT = re.compile(r"(?:кв|квартира|пом)\.?\s*(\d+[а-яА-Я]?)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+[а-яА-Я]?(?:/\d+)?")
# Words of an address that say what, not where.
_SKIP = {"город", "улица", "проспект", "переулок", "квартира", "область", "район", "дом"}


@dataclass
class Candidate:
    account: PersonalAccount
    score: float = 0.0
    why: list[str] = field(default_factory=list)


def _spellings(word: str) -> set[str]:
    # SQLite folds the case of Latin letters only: try the usual spellings of a Cyrillic word.
    return {word, word.lower(), word.capitalize(), word.upper()}


def parse_address(address: str) -> tuple[list[str], list[str], str]:
    """(street words, numbers, flat) of a free-form bank address line."""
    flat_match = _FLAT.search(address or "")
    flat = flat_match.group(1) if flat_match else ""
    rest = _FLAT.sub(" ", address or "")
    words = [w for w in _WORD.findall(rest) if w.lower() not in _SKIP]
    numbers = _NUMBER.findall(rest)
    return words, numbers, flat


def candidates(organization, payment, limit: int = LIMIT) -> list[Candidate]:
    number = re.sub(r"\D", "", payment.account_number or "")
    base = PersonalAccount.objects.filter(organization=organization).select_related(
        "premises__building"
    )
    found: dict[int, Candidate] = {}

    def add(account, score, why):
        candidate = found.setdefault(account.id, Candidate(account=account))
        candidate.score += score
        candidate.why.append(why)

    if len(number) >= 4:
        condition = Q(number__startswith=number[: max(len(number) - 3, 4)])
        condition |= Q(number__endswith=number[-5:])
        for account in base.filter(condition)[:PER_QUERY]:
            ratio = SequenceMatcher(None, number, account.number).ratio()
            if ratio >= 0.6:
                add(account, 2 * ratio, f"номер похож на {round(ratio * 100)} %")
    words, numbers, flat = parse_address(payment.address)
    if words and numbers:
        street = Q()
        for word in words:
            for spelling in _spellings(word):
                street |= Q(premises__building__street__contains=spelling)
        for account in base.filter(street, premises__building__house__in=numbers)[:PER_QUERY]:
            if flat and account.premises.number == flat:
                add(account, 2.0, "тот же дом и квартира")
            else:
                add(account, 1.0, "тот же дом")
    surname = next(iter(_WORD.findall(payment.payer_name or "")), "")
    if surname:
        names = _spellings(surname)
        for account in base.filter(holder_last_name__in=names)[:PER_QUERY]:
            add(account, 1.0, "та же фамилия")
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.account.number))
    return ranked[:limit]
