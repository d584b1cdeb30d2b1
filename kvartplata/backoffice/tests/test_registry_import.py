"""The registry upload page: check first (report), confirm, load on the task queue; own org only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kvartplata.backoffice.tests.exchange_helpers import edit, organization, tables, xlsx
from kvartplata.registry.models import ImportJob, PersonalAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return organization()


@pytest.fixture
def staff(org, django_user_model):
    return django_user_model.objects.create_user(
        username="op", password="x-Kvartplata-1", is_staff=True, organization=org
    )


@pytest.fixture
def office(client, staff, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    client.force_login(staff)
    return client


def upload(client, data: bytes, name="registry.xlsx", month="2026-03"):
    return client.post(
        "/office/tools/registry/upload/",
        {"file": SimpleUploadedFile(name, data), "month": month},
    )


def test_it_shows_the_upload_form_with_the_nav_link(office):
    response = office.get("/office/tools/registry/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Загрузка реестра" in page
    assert 'href="/office/tools/registry/"' in page


def test_it_checks_then_loads_on_confirmation(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(office, xlsx(tables(accounts=3)))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/office/tools/registry/{job.pk}/"
    assert job.status == ImportJob.Status.CHECKED
    assert not PersonalAccount.objects.exists()
    page = office.get(f"/office/tools/registry/{job.pk}/").content.decode()
    assert "Будет записано" in page and "лицевые счета" in page
    with django_capture_on_commit_callbacks(execute=True):
        office.post(f"/office/tools/registry/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.lease_owner == ""
    assert PersonalAccount.objects.count() == 3
    assert "Файл загружен" in office.get(f"/office/tools/registry/{job.pk}/").content.decode()


def test_it_shows_every_refused_line_and_offers_no_confirmation(
    office, django_capture_on_commit_callbacks
):
    data = edit(tables(accounts=3), "meters", 1, "resource", "пар")
    with django_capture_on_commit_callbacks(execute=True):
        upload(office, xlsx(data))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REFUSED
    page = office.get(f"/office/tools/registry/{job.pk}/").content.decode()
    assert "ресурс: неизвестное значение «пар»" in page
    assert "Отклонено строк: 1" in page
    assert "/confirm/" not in page
    office.post(f"/office/tools/registry/{job.pk}/confirm/")
    assert not PersonalAccount.objects.exists()


def test_it_refuses_an_unknown_kind_of_file(office):
    response = upload(office, b"a,b\n", name="registry.csv")
    assert response.status_code == 400
    assert "Загрузите книгу .xlsx или архив .zip" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_refuses_a_bad_month(office):
    response = upload(office, xlsx(tables(accounts=1)), month="март")
    assert response.status_code == 400
    assert "Неверный период" in response.content.decode()


def test_it_shows_a_whole_file_refusal(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(office, b"PK\x03\x04broken")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REFUSED
    assert (
        "архив ZIP не читается" in office.get(f"/office/tools/registry/{job.pk}/").content.decode()
    )


def test_it_hides_another_organizations_upload(office, django_user_model, client):
    other = organization("Чужая")
    job = ImportJob.objects.create(
        organization=other,
        file_name="x.xlsx",
        stored_as="x.xlsx",
        switch_month="2026-03-01",
        status=ImportJob.Status.CHECKED,
    )
    assert office.get(f"/office/tools/registry/{job.pk}/").status_code == 404
    assert office.post(f"/office/tools/registry/{job.pk}/confirm/").status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED


def test_it_sends_a_resident_to_the_login(client, django_user_model):
    user = django_user_model.objects.create_user(username="res", password="x-Kvartplata-1")
    client.force_login(user)
    response = client.get("/office/tools/registry/")
    assert response.status_code == 302
