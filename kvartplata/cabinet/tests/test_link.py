"""Linking a personal account («Добавить лицевой счёт»): proofs, the limit, the same answer."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kvartplata.billing.models import AccountBalance
from kvartplata.billing.services import billing_run, period_close
from kvartplata.billing.tests import factories
from kvartplata.cabinet.services import (
    ALREADY_LINKED,
    WRONG_PROOF,
    LinkError,
    account_link,
    parse_amount,
)
from kvartplata.lib.money import format_rub
from kvartplata.receipts.models import Receipt
from kvartplata.registry.models import Organization, Period
from kvartplata.users.models import AccountLink, LinkAttempt


def _post(client, number, proof):
    return client.post(reverse("cabinet:link"), {"number": number, "proof": proof})


def test_it_links_with_the_code_from_the_receipt(demo_client, demo_user, world):
    spare = world.spare_account
    response = _post(demo_client, spare.number, spare.link_code.lower())
    assert response.status_code == 302
    assert response.url == reverse("cabinet:account", args=[spare.id])
    assert AccountLink.objects.filter(user=demo_user, account=spare).exists()
    assert demo_client.session["cabinet_account"] == spare.id
    assert not LinkAttempt.objects.exists()


def test_it_refuses_a_wrong_code_and_counts_it(demo_client, demo_user, world):
    response = _post(demo_client, world.spare_account.number, "WRONG123")
    assert response.status_code == 200
    assert WRONG_PROOF in response.content.decode()
    assert not AccountLink.objects.filter(user=demo_user, account=world.spare_account).exists()
    assert LinkAttempt.objects.filter(user=demo_user).count() == 1


def test_it_answers_an_unknown_number_as_a_wrong_proof(demo_client, demo_user, world):
    wrong = _post(demo_client, world.spare_account.number, "WRONG123")
    unknown = _post(demo_client, "9999999999", world.spare_account.link_code)
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert WRONG_PROOF in unknown.content.decode()
    assert LinkAttempt.objects.filter(user=demo_user).count() == 2


def test_it_stops_after_five_wrong_tries_an_hour(demo_client, demo_user, world):
    for _ in range(5):
        _post(demo_client, world.spare_account.number, "WRONG123")
    response = _post(demo_client, world.spare_account.number, world.spare_account.link_code)
    assert "Слишком много неудачных попыток" in response.content.decode()
    assert not AccountLink.objects.filter(user=demo_user, account=world.spare_account).exists()
    assert LinkAttempt.objects.filter(user=demo_user).count() == 5
    # An hour later the right proof works again.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61), tick=False):
        link = account_link(
            user=demo_user, number=world.spare_account.number, proof=world.spare_account.link_code
        )
    assert link.account_id == world.spare_account.id


def test_it_says_when_the_account_is_already_linked(demo_client, demo_user, world):
    mine = world.resident_account
    response = _post(demo_client, mine.number, mine.link_code)
    assert ALREADY_LINKED in response.content.decode()
    assert AccountLink.objects.filter(user=demo_user, account=mine).count() == 1
    assert not LinkAttempt.objects.exists()


def test_it_lets_a_family_link_the_same_account(world, outsider, demo_user):
    spare = world.spare_account
    account_link(user=demo_user, number=spare.number, proof=spare.link_code)
    assert AccountLink.objects.filter(account=spare).count() == 2


def test_it_checks_the_receipt_total_when_the_organization_says_so(demo_user, world):
    # Before any receipt is issued, the last closing balance is what the paper showed: a month
    # closed without issuing receipts (issued receipts cannot be deleted to set this up).
    org, spare, _ = factories.area_world(datetime.date(2026, 3, 1))
    Organization.objects.filter(pk=org.pk).update(link_proof=Organization.LinkProof.RECEIPT_TOTAL)
    billing_run(organization=org)
    period_close(organization=org)
    assert not Receipt.objects.filter(account=spare).exists()
    closing = AccountBalance.objects.get(account=spare, month=datetime.date(2026, 3, 1)).closing
    with pytest.raises(LinkError):
        account_link(user=demo_user, number=spare.number, proof=spare.link_code)
    with pytest.raises(LinkError):
        account_link(user=demo_user, number=spare.number, proof=format_rub(closing + 1))
    link = account_link(user=demo_user, number=spare.number, proof=format_rub(closing))
    assert link.account_id == spare.id


def test_it_prefers_the_last_issued_receipt(demo_user, world):
    Organization.objects.filter(pk=world.organization.pk).update(
        link_proof=Organization.LinkProof.RECEIPT_TOTAL
    )
    spare = world.spare_account
    # A receipt later than every other one (as if the open month were already issued).
    period = Period.objects.get(organization=world.organization, month=datetime.date(2026, 11, 1))
    Receipt.objects.create(
        organization=world.organization,
        account=spare,
        period=period,
        month=period.month,
        number=990001,
        issued_at=timezone.now(),
        total_due=Decimal("1234.56"),
        data={},
    )
    older = Receipt.objects.filter(account=spare).exclude(period=period).first()
    if older is not None:
        with pytest.raises(LinkError):
            account_link(user=demo_user, number=spare.number, proof=str(older.total_due))
    link = account_link(user=demo_user, number=spare.number, proof="1 234,56 ₽")
    assert link.account_id == spare.id


def test_it_refuses_an_empty_or_malformed_form_without_counting(demo_client, demo_user, world):
    response = _post(demo_client, "12ab", "")
    html = response.content.decode()
    assert "Номер лицевого счёта — от 4 до 20 цифр." in html
    assert "Укажите код для подключения к личному кабинету из квитанции." in html
    assert not LinkAttempt.objects.exists()


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1 234,56", "1234.56"),
        ("1234.5 ₽", "1234.50"),
        ("8\u00a0749,53\u00a0₽", "8749.53"),
        ("12 руб.", "12.00"),
        ("abc", None),
        ("1,2,3", None),
    ],
)
def test_it_reads_amounts_as_people_type_them(text, amount):
    assert parse_amount(text) == (Decimal(amount) if amount else None)


def test_it_shows_the_form_with_labels(demo_client, world):
    html = demo_client.get(reverse("cabinet:link")).content.decode()
    assert '<label for="id_number">' in html
    assert '<label for="id_proof">' in html


def test_it_finds_the_number_without_its_leading_zeros(demo_user, world):
    spare = world.spare_account
    assert spare.number.startswith("0")
    link = account_link(user=demo_user, number=spare.number.lstrip("0"), proof=spare.link_code)
    assert link.account_id == spare.id
