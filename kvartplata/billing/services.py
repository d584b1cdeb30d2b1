"""The monthly cycle: open a period, run the billing, add recalculations, close the period."""

import datetime
import logging
from collections.abc import Callable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kvartplata.billing import engine, ledger
from kvartplata.billing.models import BillingRun, Recalculation, Service
from kvartplata.lib import leases
from kvartplata.lib.money import round_money
from kvartplata.lib.periods import add_months, period_label
from kvartplata.registry.models import Organization, Period, PersonalAccount

log = logging.getLogger("kvartplata.billing")


class BillingError(Exception):
    """A request the cycle refuses; the message is for people (Russian)."""

    # A run refused because another one waits in the queue: the waiting run's id, so that the
    # caller may queue its task once more (it may have been lost with a worker).
    waiting_run_id: int | None = None


def current_period(organization: Organization) -> Period | None:
    """The organization's period that is not closed yet (at most one exists)."""
    return Period.objects.filter(organization=organization).exclude(state="closed").first()


@transaction.atomic
def period_open(*, organization: Organization, month: datetime.date) -> Period:
    """Open a month for billing; refused while another month is still open."""
    if month.day != 1:
        raise BillingError("Период задаётся первым числом месяца.")
    if current_period(organization) is not None:
        raise BillingError("Уже есть открытый период: сначала закройте его.")
    if Period.objects.filter(organization=organization, month=month).exists():
        raise BillingError(f"Период {period_label(month)} уже был.")
    return Period.objects.create(
        organization=organization, month=month, due_date=ledger.due_date(organization, month)
    )


STALE_RUN_REASON = (
    "Обработчик начисления остановился (аренда задачи истекла {at}): ничего не записано. "
    "Запустите начисление снова."
)


LOST_RUN_REASON = (
    "Начисление не взято из очереди задач (задача потеряна): ничего не записано. "
    "Запустите начисление снова."
)


def billing_runs_reap(*, organization: Organization | None = None, now=None) -> list[int]:
    """Mark runs whose worker died (lease expired) failed with the reason; returns their ids.

    A run writes everything in one transaction, so a dead worker's run left nothing behind and
    can simply be started again (the back office's button, `billing_run`).
    """
    now = now or timezone.now()
    rows = Q(status=BillingRun.Status.RUNNING)
    if organization is not None:
        rows &= Q(organization=organization)
    reaped = leases.fail_expired(
        BillingRun,
        now=now,
        filters=rows,
        status=BillingRun.Status.FAILED,
        finished_at=now,
        error=STALE_RUN_REASON.format(at=timezone.localtime(now).strftime("%d.%m.%Y %H:%M")),
    )
    for run_id in reaped:
        log.warning("billing run %s: its worker stopped; marked failed", run_id)
    queued = Q(status=BillingRun.Status.QUEUED)
    if organization is not None:
        queued &= Q(organization=organization)
    lost = leases.lost_in_queue(
        BillingRun,
        created_field="created_at",
        filters=queued,
        now=now,
        status=BillingRun.Status.FAILED,
        finished_at=now,
        error=LOST_RUN_REASON,
    )
    for run_id in lost:
        log.warning("billing run %s: never taken from the queue; marked failed", run_id)
    return reaped + lost


def billing_run_start(*, organization: Organization, user=None) -> BillingRun:
    """Create a queued billing run of the open period; one run at a time per organization.

    The caller queues its task: `enqueue_on_commit(run_billing, run.id)`.
    """
    period = current_period(organization)
    if period is None:
        raise BillingError("Нет открытого периода для начисления.")
    billing_runs_reap(organization=organization)
    try:
        with transaction.atomic():
            run = BillingRun.objects.create(
                organization=organization, period=period, created_by=user
            )
    except IntegrityError as exc:
        waiting = BillingRun.objects.filter(
            organization=organization, status=BillingRun.Status.QUEUED
        ).first()
        error = BillingError("Начисление уже выполняется: дождитесь его окончания.")
        error.waiting_run_id = waiting.id if waiting is not None else None
        raise error from exc
    return run


def billing_run_execute(
    *, run_id: int, progress: Callable[[int, int], None] | None = None
) -> BillingRun:
    """Compute the open period: charges, automatic recalculations, penalties, balances.

    Idempotent: everything the run wrote before is replaced, so a second run gives the same.
    The run is claimed with a lease (`lib.leases`) renewed while it works; the commit happens
    only while this worker still holds it, so a run taken over is never written twice.
    """
    owner = leases.worker_id()
    claimed = leases.claim(
        BillingRun,
        run_id,
        owner=owner,
        filters=Q(status=BillingRun.Status.QUEUED),
        status=BillingRun.Status.RUNNING,
        started_at=timezone.now(),
    )
    run = BillingRun.objects.select_related("period__organization").get(id=run_id)
    if not claimed:
        return run
    last_saved = [0]

    try:
        with leases.Heartbeat(BillingRun, run_id, owner=owner) as heartbeat:

            def report(done: int, total: int):
                # Progress leaves with the lease's heartbeat (the run's transaction hides it),
                # at most every few percent.
                if total and (done - last_saved[0] >= max(total // 50, 1) or done == total):
                    last_saved[0] = done
                    heartbeat.beat(accounts_done=done, accounts_total=total)
                if progress:
                    progress(done, total)

            with transaction.atomic():
                period = Period.objects.select_for_update().get(id=run.period_id)
                if period.state == Period.State.CLOSED:
                    raise BillingError("Период закрыт: начисление невозможно.")
                ledger.unpost_auto_recalculations(period)
                # The run writes its late-readings recalculations and ledger entries itself.
                result = engine.compute_charges(period, run_id=run.id, progress=report)
                ledger.post_charges(period, run.id)
                ledger.post_penalties(period)
                ledger.refresh_balances(period)
                period.state = Period.State.BILLED
                period.billed_at = timezone.now()
                period.save(update_fields=["state", "billed_at"])
                heartbeat.stop()
                if not leases.hold(BillingRun, run_id, owner=owner):
                    raise BillingError("Начисление прервано: задачу передали другому обработчику.")
                leases.release(
                    BillingRun,
                    run_id,
                    owner=owner,
                    status=BillingRun.Status.DONE,
                    finished_at=timezone.now(),
                    lines=result.lines,
                    report=result.problems[:1000],
                    **heartbeat.values,
                )
    except Exception as exc:
        log.exception("billing run %s failed", run_id)
        leases.release(
            BillingRun,
            run_id,
            owner=owner,
            status=BillingRun.Status.FAILED,
            finished_at=timezone.now(),
            error=str(exc)[:2000],
        )
        if isinstance(exc, BillingError):
            raise
        raise BillingError(f"Начисление не выполнено: {exc}") from exc
    run.refresh_from_db()
    return run


def billing_run(*, organization: Organization, user=None, progress=None) -> BillingRun:
    """Start and execute a run in this process (management command, demo, tests)."""
    run = billing_run_start(organization=organization, user=user)
    return billing_run_execute(run_id=run.id, progress=progress)


@transaction.atomic
def recalculation_add(
    *,
    account: PersonalAccount,
    concerns_month: datetime.date,
    amount: Decimal,
    reason: str,
    service: Service | None = None,
    user=None,
    source: str = Recalculation.Source.STAFF,
) -> Recalculation:
    """A staff recalculation booked in the open period for the month it corrects.

    ``source``: a recalculation (``STAFF``) or a privilege or subsidy granted to the payer
    (``PRIVILEGE``, always a reduction: the receipt shows it in «Льготы, субсидии»).
    """
    if source not in (Recalculation.Source.STAFF, Recalculation.Source.PRIVILEGE):
        raise BillingError("Такой вид перерасчёта вручную не проводится.")
    period = current_period(account.organization)
    if period is None:
        raise BillingError("Нет открытого периода: перерасчёт некуда провести.")
    if concerns_month.day != 1 or concerns_month > period.month:
        raise BillingError("Перерасчёт можно сделать за текущий или прошедший месяц.")
    if not reason.strip():
        raise BillingError("Укажите основание перерасчёта.")
    amount = round_money(amount)
    if amount == 0:
        raise BillingError("Сумма перерасчёта не может быть нулевой.")
    if source == Recalculation.Source.PRIVILEGE and amount > 0:
        raise BillingError("Льгота уменьшает начисление: укажите сумму со знаком минус.")
    recalculation = Recalculation.objects.create(
        account=account,
        period=period,
        concerns_month=concerns_month,
        service=service,
        amount=amount,
        reason=reason.strip()[:255],
        source=source,
        created_by=user,
    )
    ledger.post_recalculations(period, [recalculation])
    if period.state == Period.State.BILLED:
        ledger.refresh_balances(period, [account.id])
    return recalculation


@transaction.atomic
def period_close(
    *,
    organization: Organization,
    user=None,
    open_next: bool = True,
    now: datetime.datetime | None = None,
    issue: Callable[[Period, datetime.datetime], None] | None = None,
) -> Period:
    """Close the billed period: balances final, its documents issued; the next month opens.

    `issue(period, now)` freezes the month's documents before the period closes, inside this
    transaction; the closing service above billing and receipts passes the receipts' issuer
    (`backoffice.closing.period_close_with_receipts`). `now` is the moment of closing and of
    issuing (the demo closes past months at their time).
    """
    now = now or timezone.now()
    period = (
        Period.objects.select_for_update().filter(organization=organization).exclude(state="closed")
    ).first()
    if period is None:
        raise BillingError("Нет открытого периода.")
    if period.state != Period.State.BILLED:
        raise BillingError("Сначала выполните начисление за период.")
    billing_runs_reap(organization=organization, now=now)
    if BillingRun.objects.filter(
        organization=organization, status__in=["queued", "running"]
    ).exists():
        raise BillingError("Идёт начисление: дождитесь его окончания.")
    stale = _readings_after_run(period)
    if stale:
        raise BillingError(
            f"После начисления приняты показания ({stale} шт.): выполните начисление заново, "
            "затем закройте период."
        )
    ledger.refresh_balances(period)
    if issue is not None:
        issue(period, now)
    Period.objects.filter(id=period.id).update(state=Period.State.CLOSED, closed_at=now)
    period.refresh_from_db()
    if open_next:
        period_open(organization=organization, month=add_months(period.month, 1))
    log.info("period %s of %s closed by %s", period, organization, user)
    return period


def _readings_after_run(period: Period) -> int:
    """Accepted readings of the month that arrived after the last billing run started."""
    from kvartplata.meters.models import Reading

    run = (
        BillingRun.objects.filter(period=period, status=BillingRun.Status.DONE)
        .exclude(started_at=None)
        .order_by("-started_at")
        .first()
    )
    if run is None:
        return 0  # charges imported from an external system: readings are not ours to bill
    organization = period.organization
    return (
        Reading.objects.filter(
            month=period.month, is_accepted=True, submitted_at__gt=run.started_at
        )
        .filter(
            Q(meter__account__organization=organization)
            | Q(meter__building__organization=organization)
        )
        .count()
    )
