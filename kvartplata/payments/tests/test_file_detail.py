"""A registry file's page: counters, refusal reason with line errors, progress while running."""

from kvartplata.payments.models import PaymentFile
from kvartplata.payments.tests.conftest import line, registry


def test_it_shows_the_counters(client, staff, accounts, import_text):
    f = import_text(registry([line(accounts[0].number, "10.00", op="F1")]))
    client.force_login(staff)
    body = client.get(f"/office/tools/payments/files/{f.pk}/").content.decode()
    assert "Загружено новых" in body and "загружен" in body


def test_it_shows_the_reason_of_a_refusal(client, staff, accounts, import_text):
    f = import_text(registry([line(accounts[0].number, "abc", op="F1")], total="0"))
    client.force_login(staff)
    body = client.get(f"/office/tools/payments/files/{f.pk}/").content.decode()
    assert "Реестр отклонён, ничего не загружено." in body
    assert "Строка 1: неверная сумма «abc»" in body


def test_it_refreshes_while_queued(client, staff, bank):
    f = PaymentFile.objects.create(bank=bank, name="q.txt", size=1)
    client.force_login(staff)
    body = client.get(f"/office/tools/payments/files/{f.pk}/").content.decode()
    assert 'http-equiv="refresh"' in body and "ожидает очереди" in body


def test_it_is_404_for_another_organization(client, bank, django_user_model):
    from kvartplata.registry.models import Organization

    f = PaymentFile.objects.create(bank=bank, name="q.txt", size=1)
    other = Organization.objects.create(name="Другая УК", short_name="Другая", inn="7700000000")
    outsider = django_user_model.objects.create_user(
        username="outsider", password="x-Password-1", is_staff=True, organization=other
    )
    client.force_login(outsider)
    assert client.get(f"/office/tools/payments/files/{f.pk}/").status_code == 404
