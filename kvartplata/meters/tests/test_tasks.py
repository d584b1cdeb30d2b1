"""Reminder e-mails: window open and verification due, once per month and user, with unsubscribe."""

from datetime import date

from django.core import mail

from kvartplata.meters.models import ReminderLog, ReminderOptOut
from kvartplata.meters.services import ReadingEntry, reading_submit
from kvartplata.meters.tasks import reminders_daily, send_reminders


def test_it_reminds_when_the_window_opens_once_a_month(world, settings):
    settings.SITE_URL = "https://kv.example"
    assert send_reminders(today=date(2026, 11, 14))["window_open"] == 0
    assert send_reminders(today=date(2026, 11, 15))["window_open"] == 2  # resident and outsider
    message = next(m for m in mail.outbox if m.to == ["resident@example.com"])
    assert message.subject == "Передайте показания счётчиков за ноябрь 2026"
    assert f"https://kv.example/accounts/{world.account.pk}/meters/" in message.body
    assert "https://kv.example/meters/unsubscribe/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<https://kv.example/meters/unsubscribe/"
    )
    assert "Отписаться от напоминаний" in message.alternatives[0][0]
    assert send_reminders(today=date(2026, 11, 16))["window_open"] == 0
    assert ReminderLog.objects.filter(kind="window_open").count() == 2


def test_it_skips_users_who_submitted_or_unsubscribed(world):
    entries = [
        ReadingEntry(m.pk, v)
        for m, v in ((world.cold, ("135",)), (world.hot, ("66",)), (world.power, ("1390", "680")))
    ]
    assert reading_submit(
        account=world.account, entries=entries, user=world.resident, today=date(2026, 11, 15)
    ).ok
    ReminderOptOut.objects.create(user=world.outsider)
    assert send_reminders(today=date(2026, 11, 15))["window_open"] == 0
    assert mail.outbox == []


def test_it_reminds_thirty_days_before_verification(world):
    world.hot.next_verification_on = date(2026, 12, 20)
    world.hot.save()
    assert send_reminders(today=date(2026, 11, 19))["verification_due"] == 0
    assert send_reminders(today=date(2026, 11, 20))["verification_due"] == 1
    message = mail.outbox[-1]
    assert message.subject == "Скоро срок поверки счётчика"
    assert "HW-1" in message.body and "20.12.2026" in message.body
    assert send_reminders(today=date(2026, 11, 21))["verification_due"] == 0
    assert send_reminders(today=date(2026, 12, 1))["verification_due"] == 1  # a new month


def test_it_releases_the_claim_when_sending_fails(world, settings):
    settings.EMAIL_BACKEND = "kvartplata.meters.tests.test_tasks.FailingBackend"
    assert send_reminders(today=date(2026, 11, 15))["window_open"] == 0
    assert not ReminderLog.objects.exists()


def test_it_runs_as_a_periodic_task(world, in_window):
    result = reminders_daily.call_local()
    assert result == {"window_open": 2, "verification_due": 0}


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP is down")


def test_it_holds_a_reminder_while_sending_and_sends_again_after_a_dead_worker(world, in_window):
    from datetime import timedelta

    from django.utils import timezone

    from kvartplata.meters.tasks import reminders_reap, send_reminders

    today = timezone.localdate()
    assert send_reminders(today=today)["window_open"] == 2
    assert not ReminderLog.objects.exclude(lease_owner="").exists()  # released once sent
    # A worker died mid-send: its rows still hold a lease, which runs out.
    ReminderLog.objects.update(lease_owner="dead:1", lease_expires_at=timezone.now())
    assert reminders_reap(now=timezone.now() - timedelta(seconds=1)) == 0
    assert reminders_reap(now=timezone.now() + timedelta(seconds=1)) == 2
    assert send_reminders(today=today)["window_open"] == 2
