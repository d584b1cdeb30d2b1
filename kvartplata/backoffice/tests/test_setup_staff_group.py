"""The setup_staff_group command creates the «Операторы» group with exactly its permissions."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from kvartplata.backoffice.services import STAFF_GROUP_NAME, staff_group_permission_codes
from kvartplata.users.models import User


def group_codes(group):
    return {(p.content_type.app_label, p.codename) for p in group.permissions.all()}


def test_it_creates_the_group(db, capsys):
    call_command("setup_staff_group")
    group = Group.objects.get(name=STAFF_GROUP_NAME)
    assert group_codes(group) == set(staff_group_permission_codes())
    assert "Операторы" in capsys.readouterr().out


def test_it_is_idempotent_and_removes_extra_permissions(db):
    call_command("setup_staff_group")
    group = Group.objects.get(name=STAFF_GROUP_NAME)
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="delete_personalaccount"))
    call_command("setup_staff_group")
    assert Group.objects.filter(name=STAFF_GROUP_NAME).count() == 1
    assert ("registry", "delete_personalaccount") not in group_codes(group)


def test_it_adds_users(db):
    user = User.objects.create_user(username="Operator", password=None, is_staff=True)
    call_command("setup_staff_group", "--user", "operator")
    assert user.groups.filter(name=STAFF_GROUP_NAME).exists()


def test_it_refuses_an_unknown_user_and_changes_nothing(db):
    with pytest.raises(CommandError, match="не найден"):
        call_command("setup_staff_group", "--user", "nobody")
    assert not Group.objects.filter(name=STAFF_GROUP_NAME).exists()


def test_it_gives_operators_no_power_over_ledger_or_receipts(db):
    codes = {codename for _app, codename in staff_group_permission_codes()}
    for forbidden in (
        "change_ledgerentry",
        "delete_ledgerentry",
        "change_charge",
        "change_receipt",
        "delete_receipt",
        "change_keyrate",
        "add_user",
        "delete_user",
        "change_group",
    ):
        assert forbidden not in codes
