"""Fixtures of the payments tests: a small demo world and registry files made on the spot."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.payments.models import Bank, PaymentFile

TODAY = datetime.date(2026, 11, 25)


@pytest.fixture
def world(db):
    from kvartplata.demo import world as demo

    return demo.build(accounts=20, months=4, today=TODAY)


@pytest.fixture
def bank(world):
    return Bank.objects.get(organization=world.organization, code="sber")


@pytest.fixture
def accounts(world):
    from kvartplata.registry.models import PersonalAccount

    return list(PersonalAccount.objects.filter(organization=world.organization).order_by("number"))


@pytest.fixture
def staff(world, django_user_model):
    return django_user_model.objects.get(username="operator")


def line(
    number: str,
    amount: str,
    *,
    op: str = "",
    when: str = "03.11.2026 12:00:00",
    payer: str = "Иванов Иван Иванович",
    address: str = "г. Рязань, ул. Ленина, д. 10, кв. 1",
    month: str = "",
    commission: str = "0.00",
) -> str:
    """A payment line in the demo bank's layout (see docs/payments-registry.md)."""
    return ";".join([when, op, number, payer, address, month, amount, commission])


def registry(lines: list[str], *, footer: bool = True, count=None, total=None) -> str:
    """A whole registry text with the footer «=count;total» computed unless given."""
    text = "\n".join(lines)
    if footer:
        if count is None:
            count = len(lines)
        if total is None:
            total = sum((Decimal(ln.split(";")[6].replace(",", ".")) for ln in lines), Decimal(0))
        text += f"\n={count};{total}"
    return text + "\n"


@pytest.fixture
def import_text(bank, tmp_path):
    """Import a registry given as text (encoded as asked); returns the PaymentFile."""
    from kvartplata.payments.services import payment_file_import

    counter = [0]

    def run(text: str | bytes, encoding: str = "cp1251", name: str = "reestr.txt") -> PaymentFile:
        counter[0] += 1
        data = text if isinstance(text, bytes) else text.encode(encoding)
        path = tmp_path / f"{counter[0]}-{name}"
        path.write_bytes(data)
        payment_file = PaymentFile.objects.create(bank=bank, name=name, size=len(data))
        return payment_file_import(payment_file_id=payment_file.pk, path=path)

    return run
