"""Back office of receipts: the print shop's ZIP built as a task with progress, the mailing."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from kvartplata.receipts import pdf
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.receipts.services import (
    ReceiptError,
    _print_state_set,
    print_archive_start,
)
from kvartplata.receipts.tasks import deliveries_queue
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.receipts.tests.test_mailing import FlakyBackend
from kvartplata.registry.models import Organization, Period
from kvartplata.users.services import user_create

Status = ReceiptDelivery.Status


@pytest.fixture(autouse=True)
def _print_dir(settings, tmp_path):
    settings.RECEIPTS_PRINT_DIR = tmp_path / "print"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def october(world):
    return Period.objects.get(organization=world.organization, month=OCTOBER)


@pytest.fixture
def failed_delivery(world, demo_user, october, huey, settings):
    """The demo resident subscribed, and the SMTP server down for all five attempts."""
    demo_user.receipts_by_email = True
    demo_user.save()
    settings.EMAIL_BACKEND = "kvartplata.receipts.tests.test_mailing.FlakyBackend"
    FlakyBackend.failures_left = 1
    deliveries_queue(october.id)
    huey.storage.flush_all()  # the automatic retries are not run here
    return ReceiptDelivery.objects.get()


def other_staff():
    org = Organization.objects.create(
        name="ООО «Другая УК»",
        short_name="Другая УК",
        address="г. Рязань",
        inn="6229000001",
        bank_name="Банк",
        bic="046126614",
        correspondent_account="30101810500000000614",
        settlement_account="40702810253000000001",
    )
    stranger = user_create(
        username="chuzhoy",
        email="chuzhoy@example.ru",
        password="Kvart-plata-2025",
        email_verified=True,
        is_staff=True,
        organization=org,
    )
    # The same role as the demo's operator: only the organization differs.
    stranger.groups.set(get_user_model().objects.get(username="operator").groups.all())
    return stranger


def test_it_lists_the_closed_months(staff_client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):  # with the staff member's permissions
        response = staff_client.get(reverse("receipts_office:office"))
    assert response.status_code == 200
    html = response.content.decode()
    for month in ("октябрь 2026", "сентябрь 2026", "август 2026"):
        assert month in html
    assert "ноябрь 2026" not in html  # still open: nothing issued
    for period in Period.objects.filter(organization=world.organization, state="closed"):
        assert reverse("receipts_office:period", args=[period.id]) in html


def test_it_is_for_staff_of_the_organization_only(client, demo_user, world, october):
    url = reverse("receipts_office:period", args=[october.id])
    client.force_login(demo_user)
    assert client.get(url).status_code == 302  # to the staff sign-in
    client.force_login(other_staff())
    assert client.get(url).status_code == 404
    assert client.post(reverse("receipts_office:print_start", args=[october.id])).status_code == 404
    assert (
        client.get(reverse("receipts_office:print_download", args=[october.id])).status_code == 404
    )


def test_it_builds_the_zip_for_the_print_shop(
    staff_client, world, october, huey, django_capture_on_commit_callbacks
):
    page = reverse("receipts_office:period", args=[october.id])
    assert "Сформировать ZIP" in staff_client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("receipts_office:print_start", args=[october.id]))
    assert response.status_code == 302
    html = staff_client.get(page).content.decode()
    assert "Скачать ZIP" in html
    receipts = list(Receipt.objects.filter(period=october).select_related("account"))
    assert f"файлов: {len(receipts)}" in html
    response = staff_client.get(reverse("receipts_office:print_download", args=[october.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert names == sorted(f"2026-10-{r.account.number}.pdf" for r in receipts)
    sample = next(r for r in receipts if r.account_id == world.resident_account.id)
    assert archive.read(f"2026-10-{sample.account.number}.pdf") == pdf.render_receipt(sample.data)


def test_it_shows_the_progress_of_a_running_build(staff_client, october, huey):
    _print_state_set(october.id, state="running", done=7, total=20, error="")
    html = staff_client.get(reverse("receipts_office:period", args=[october.id])).content.decode()
    assert '<progress class="receipts-progress" max="100" value="35">' in html
    assert "7 из 20" in html
    assert 'http-equiv="refresh"' in html
    assert "Сформировать" not in html
    with pytest.raises(ReceiptError, match="уже формируется"):
        print_archive_start(period=october)


def test_it_refuses_the_zip_of_an_open_month(staff_client, world, huey):
    current = Period.objects.get(organization=world.organization, state="open")
    with pytest.raises(ReceiptError, match="не закрыт"):
        print_archive_start(period=current)
    response = staff_client.post(reverse("receipts_office:print_start", args=[current.id]))
    assert response.status_code == 404


def test_it_shows_failed_mailings_and_retries_them(
    staff_client, failed_delivery, october, huey, django_capture_on_commit_callbacks
):
    assert failed_delivery.status == Status.FAILED
    page = reverse("receipts_office:period", args=[october.id])
    html = staff_client.get(page).content.decode()
    assert "Неудавшиеся отправки" in html
    assert failed_delivery.email in html
    assert "SMTPServerDisconnected" in html
    retry = reverse("receipts_office:delivery_retry", args=[failed_delivery.id])
    assert f'action="{retry}"' in html and "повторить" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(retry)
    assert response.status_code == 302
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.SENT
    assert failed_delivery.attempts == 2
    assert [m.to for m in mail.outbox] == [[failed_delivery.email]]
    html = staff_client.get(page).content.decode()
    assert "Неудавшиеся отправки" not in html
    # A sent delivery is not sent again by a second press.
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(retry)
    assert len(mail.outbox) == 1


def test_it_retries_every_failure_of_the_month(
    staff_client, failed_delivery, october, huey, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("receipts_office:retry_failed", args=[october.id]))
    assert response.status_code == 302
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.SENT
    assert len(mail.outbox) == 1


def test_it_hides_another_organizations_deliveries(client, failed_delivery, huey):
    client.force_login(other_staff())
    retry = reverse("receipts_office:delivery_retry", args=[failed_delivery.id])
    assert client.post(retry).status_code == 404
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == Status.FAILED
    assert mail.outbox == []
