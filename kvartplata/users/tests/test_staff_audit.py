"""The staff write audit (users.middleware.StaffAuditMiddleware): who, what, when, outcome."""

import logging

import pytest
from django.contrib.auth import get_user_model


def audit_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kvartplata.audit"]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        username="clerk", password="Clerk-pass-2025", is_staff=True
    )


@pytest.fixture
def resident(db):
    return get_user_model().objects.create_user(username="jilec", password="Jilec-pass-2025")


def test_it_logs_every_office_tool_post_of_staff(client, staff, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(staff)

    response = client.post("/office/tools/payments/upload/", {})

    lines = [line for line in audit_lines(caplog) if "event=staff_request" in line]
    assert len(lines) == 1
    line = lines[0]
    assert "login='clerk'" in line
    assert f"user_id={staff.pk}" in line
    assert "method=POST" in line
    assert "path='/office/tools/payments/upload/'" in line
    assert f"status={response.status_code}" in line
    assert "view=payments:upload" in line
    assert "ip=127.0.0.1" in line
    assert " at=" in line


def test_it_logs_the_staff_member_who_signs_out(client, staff, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(staff)

    client.post("/office/logout/")

    lines = [line for line in audit_lines(caplog) if "event=staff_request" in line]
    assert len(lines) == 1
    assert "login='clerk'" in lines[0]
    assert "view=admin:logout" in lines[0]


def test_it_does_not_log_reads_or_residents(client, staff, resident, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(staff)
    client.get("/office/tools/payments/")
    client.force_login(resident)
    client.post("/accounts/link/", {"code": "nothing"})

    assert not [line for line in audit_lines(caplog) if "event=staff_request" in line]


def test_it_never_logs_the_request_body(client, staff, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(staff)

    client.post("/office/password_change/", {"old_password": "Clerk-pass-2025"})

    text = "\n".join(audit_lines(caplog))
    assert "event=staff_request" in text
    assert "Clerk-pass-2025" not in text
