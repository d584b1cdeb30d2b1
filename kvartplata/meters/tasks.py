"""Reminder e-mails about readings and verification, run daily by the task queue."""

import logging
from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kvartplata.lib import leases
from kvartplata.lib.leases import JOB_PRIORITY
from kvartplata.lib.periods import format_date, month_start, period_label
from kvartplata.meters.imports import readings_file_import, readings_files_reap
from kvartplata.meters.models import Meter, Reading, ReminderLog, ReminderOptOut
from kvartplata.meters.validation import VERIFICATION_WARNING_DAYS
from kvartplata.users.models import AccountLink

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "kvartplata.meters.reminders.unsubscribe"


def unsubscribe_url(user) -> str:
    token = signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("meters_site:unsubscribe", args=[token])


def meters_url(account_id: int) -> str:
    return settings.SITE_URL + reverse("cabinet:meters:meter_list", args=[account_id])


def _reachable_links():
    """Links of active users with an e-mail who have not unsubscribed, to open accounts."""
    return (
        AccountLink.objects.filter(user__is_active=True, account__closed_on__isnull=True)
        .exclude(user__email="")
        .exclude(Exists(ReminderOptOut.objects.filter(user=OuterRef("user"))))
        .select_related(
            "user", "account__premises__building__organization", "account__organization"
        )
        .order_by("user_id", "account__number")
    )


def _claim(user, kind: str, month: date, owner: str) -> bool:
    """Record the reminder (with a lease) before sending: a second worker or run finds it and
    skips the user."""
    try:
        with transaction.atomic():
            ReminderLog.objects.create(
                user=user,
                kind=kind,
                month=month,
                lease_owner=owner,
                lease_expires_at=timezone.now() + _send_lease(),
            )
    except IntegrityError:
        return False
    return True


def _send_lease() -> timedelta:
    """One message: a lease that outlasts the SMTP exchanges, each bounded by EMAIL_TIMEOUT."""
    return timedelta(seconds=max(leases.lease_seconds(), 4 * settings.EMAIL_TIMEOUT))


def reminders_reap(*, now=None) -> int:
    """Remove reminders whose worker died while sending (lease expired): the next run sends
    them (a reminder may then arrive twice, never not at all)."""
    stale = leases.expired(ReminderLog, now=now)
    count = 0
    for pk in list(stale.values_list("pk", flat=True)):
        count += stale.filter(pk=pk).delete()[0]
    if count:
        logger.warning("%s reminders of a worker that stopped removed; they go again", count)
    return count


def _send(user, *, template: str, context: dict) -> None:
    context = {**context, "user": user, "unsubscribe_url": unsubscribe_url(user)}
    subject = render_to_string(f"meters/emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"meters/emails/{template}.txt", context)
    html = render_to_string(f"meters/emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    message.send()


def _deliver(user, kind: str, month: date, *, template: str, context: dict) -> bool:
    owner = leases.worker_id()
    if not _claim(user, kind, month, owner):
        return False
    rows = ReminderLog.objects.filter(user=user, kind=kind, month=month, lease_owner=owner)
    try:
        _send(user, template=template, context=context)
    except Exception:
        # Release the claim so that tomorrow's run tries again.
        rows.delete()
        logger.exception("Reminder %s to user %s failed", kind, user.pk)
        return False
    rows.update(lease_owner="", lease_expires_at=None)
    return True


def send_window_reminders(*, today: date) -> int:
    """To users whose readings window is open and who have not submitted every meter's readings."""
    month = month_start(today)
    missing = Meter.objects.filter(account=OuterRef("account"), archived_on__isnull=True).exclude(
        Exists(Reading.objects.filter(meter=OuterRef("pk"), month=month, is_accepted=True))
    )
    links = (
        _reachable_links()
        .filter(Exists(missing))
        .exclude(
            Exists(
                ReminderLog.objects.filter(
                    user=OuterRef("user"), kind=ReminderLog.Kind.WINDOW_OPEN, month=month
                )
            )
        )
    )
    by_user = defaultdict(list)
    users = {}
    for link in links:
        day_from, day_to = link.account.premises.building.readings_window()
        if day_from <= today.day <= day_to:
            users[link.user_id] = link.user
            by_user[link.user_id].append(
                {
                    "account": link.account,
                    "url": meters_url(link.account_id),
                    "day_to": day_to,
                }
            )
    sent = 0
    for user_id, accounts in by_user.items():
        context = {"accounts": accounts, "month_label": period_label(month)}
        sent += _deliver(
            users[user_id],
            ReminderLog.Kind.WINDOW_OPEN,
            month,
            template="window_open",
            context=context,
        )
    return sent


def send_verification_reminders(*, today: date) -> int:
    """To users with a meter whose verification date comes within 30 days."""
    month = month_start(today)
    due = Meter.objects.filter(
        account=OuterRef("account"),
        archived_on__isnull=True,
        next_verification_on__gte=today,
        next_verification_on__lte=today + timedelta(days=VERIFICATION_WARNING_DAYS),
    )
    links = (
        _reachable_links()
        .filter(Exists(due))
        .exclude(
            Exists(
                ReminderLog.objects.filter(
                    user=OuterRef("user"), kind=ReminderLog.Kind.VERIFICATION_DUE, month=month
                )
            )
        )
    )
    links = list(links)
    meters = Meter.objects.filter(
        account__in={link.account_id for link in links},
        archived_on__isnull=True,
        next_verification_on__gte=today,
        next_verification_on__lte=today + timedelta(days=VERIFICATION_WARNING_DAYS),
    ).order_by("next_verification_on")
    meters_by_account = defaultdict(list)
    for meter in meters:
        meters_by_account[meter.account_id].append(
            {"meter": meter, "date": format_date(meter.next_verification_on)}
        )
    by_user = defaultdict(list)
    users = {}
    for link in links:
        users[link.user_id] = link.user
        by_user[link.user_id].append(
            {
                "account": link.account,
                "url": meters_url(link.account_id),
                "meters": meters_by_account[link.account_id],
            }
        )
    sent = 0
    for user_id, accounts in by_user.items():
        sent += _deliver(
            users[user_id],
            ReminderLog.Kind.VERIFICATION_DUE,
            month,
            template="verification_due",
            context={"accounts": accounts},
        )
    return sent


def send_reminders(*, today: date) -> dict[str, int]:
    return {
        "window_open": send_window_reminders(today=today),
        "verification_due": send_verification_reminders(today=today),
    }


@db_periodic_task(crontab(hour="9", minute="0"))
def reminders_daily():
    """Every morning: a window that opened today (or a missed run) still reminds once a month."""
    reminders_reap()
    return send_reminders(today=timezone.localdate())


@db_task(priority=JOB_PRIORITY)
def import_readings_file(readings_file_id: int) -> str:
    """Load an uploaded readings file; its row keeps the progress, the outcome and the report."""
    return readings_file_import(readings_file_id=readings_file_id).status


@db_periodic_task(crontab(minute="*"), priority=JOB_PRIORITY)
def reap_readings_files() -> list[int]:
    """Every minute: a readings file whose import worker died is refused with the reason."""
    return readings_files_reap()
