"""Uploading a registry in the back office: queued, imported by the task, refused when too big."""

from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.tests.conftest import line, registry


def _upload(client, bank, data: bytes, name="sber.txt"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/office/tools/payments/upload/",
        {"bank": bank.pk, "file": SimpleUploadedFile(name, data, content_type="text/plain")},
    )


def test_it_imports_an_uploaded_file(
    client, staff, bank, accounts, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(staff)
    data = registry([line(accounts[0].number, "10.00", op="W1")]).encode("cp1251")
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, bank, data)
    payment_file = PaymentFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/office/tools/payments/files/{payment_file.pk}/"
    assert payment_file.status == PaymentFile.Status.IMPORTED
    assert payment_file.uploaded_by == staff
    assert Payment.objects.filter(natural_key="W1").count() == 1


def test_it_refuses_a_file_over_the_limit(client, staff, bank, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.PAYMENTS_MAX_FILE_BYTES = 10
    client.force_login(staff)
    response = _upload(client, bank, b"x" * 1000)
    assert response.status_code == 400
    assert "Файл слишком большой" in response.content.decode()
    assert not PaymentFile.objects.exists()


def test_it_refuses_an_empty_file(client, staff, bank, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(staff)
    response = _upload(client, bank, b"")
    assert response.status_code == 400
    assert not PaymentFile.objects.exists()


def test_it_refuses_another_organizations_bank(client, bank, tmp_path, settings, django_user_model):
    from kvartplata.registry.models import Organization

    settings.MEDIA_ROOT = tmp_path
    other = Organization.objects.create(name="Другая УК", short_name="Другая", inn="7700000000")
    outsider = django_user_model.objects.create_user(
        username="outsider", password="x-Password-1", is_staff=True, organization=other
    )
    # An operator, with every right to payments, only of another organization.
    from kvartplata.backoffice.services import ROLE_OPERATOR, staff_group_setup

    staff_group_setup(usernames=["outsider"], role=ROLE_OPERATOR)
    client.force_login(outsider)
    response = _upload(client, bank, b"03.11.2026;1;2;3\n")
    assert response.status_code == 400
    assert not PaymentFile.objects.exists()
