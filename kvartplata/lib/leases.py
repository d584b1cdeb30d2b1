"""Leases for claimed background jobs: who holds a job and until when.

A job row (a billing run, an imported file, a delivery…) inherits ``LeasedJob``. A worker takes
the job with ``claim`` — one conditional UPDATE, so two workers can never both hold it — and
``renew`` extends the lease while it works (progress callbacks are a natural place). A worker
that dies (SIGKILL, a lost machine) stops renewing; once ``lease_expires_at`` has passed,
``expired`` finds the row and ``take_over`` hands it to someone else, or the caller marks the job
failed with the reason so that staff can start it again.

Generic: this module knows no domain model. Times are passed in (``now``) where a caller may
want to fix them; by default the application's clock (``timezone.now``), so the machines of the
workers keep their clocks in step (NTP): a lease is a minute, a skew of seconds is harmless.
"""

import datetime
import os
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

DEFAULT_LEASE_SECONDS = 60
# Queue priority of claimed jobs (runs, imports, archives): they go before any queued e-mail,
# so a slow or hanging mail server delays mail only (docs/deployment.md, «Очередь задач»).
JOB_PRIORITY = 10


def lease_seconds() -> float:
    """The lease length of jobs; short in the fault tests (``JOB_LEASE_SECONDS``)."""
    return float(getattr(settings, "JOB_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def queued_seconds() -> float:
    """How long a job may wait in the queue unclaimed before it is taken for lost (its task
    vanished with a worker or a queue): ``JOB_QUEUED_SECONDS``, an hour by default."""
    return float(getattr(settings, "JOB_QUEUED_SECONDS", 3600))


def lost_in_queue(model, *, created_field: str, filters: Q, now=None, **updates) -> list:
    """Mark jobs still waiting (``filters``) since before ``queued_seconds()`` ago with
    ``updates``; returns their primary keys. A task that turns up later finds the job no longer
    queued and leaves it alone (claims are conditional)."""
    now = _now(now)
    cutoff = now - datetime.timedelta(seconds=queued_seconds())
    rows = model.objects.filter(filters, lease_owner="", **{f"{created_field}__lt": cutoff})
    lost = []
    for pk in list(rows.values_list("pk", flat=True)):
        if rows.filter(pk=pk).update(**updates):
            lost.append(pk)
    return lost


def worker_id() -> str:
    """A name for this holder: host, process and thread, plus a random tag (unique per call)."""
    tag = uuid.uuid4().hex[:8]
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{tag}"[:200]


class LeasedJob(models.Model):
    """Abstract mixin: a job row that a worker holds for a limited time."""

    lease_owner = models.CharField("кто выполняет", max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField("аренда до", null=True, blank=True)

    class Meta:
        abstract = True

    def lease_expired(self, *, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.lease_expires_at is not None and self.lease_expires_at <= now


def _now(now):
    return now or timezone.now()


def claim(
    model,
    pk,
    *,
    owner: str,
    seconds: float | None = None,
    now: datetime.datetime | None = None,
    filters: Q | None = None,
    **updates,
) -> bool:
    """Take the job ``pk`` if nobody holds a live lease on it; True when this caller has it.

    ``filters`` narrows the rows that may be taken (e.g. a status); ``updates`` are written in the
    same UPDATE (e.g. the new status, ``attempts=F("attempts") + 1``). A lease that expired may
    be claimed again: that is the take-over of a dead worker's job.
    """
    now = _now(now)
    seconds = lease_seconds() if seconds is None else seconds
    free = Q(lease_owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    rows = model.objects.filter(free, pk=pk)
    if filters is not None:
        rows = rows.filter(filters)
    return bool(
        rows.update(
            lease_owner=owner,
            lease_expires_at=now + datetime.timedelta(seconds=seconds),
            **updates,
        )
    )


def renew(
    model,
    pk,
    *,
    owner: str,
    seconds: float | None = None,
    now: datetime.datetime | None = None,
    **updates,
) -> bool:
    """Extend the lease of a job this owner holds; False when it was lost (taken over)."""
    now = _now(now)
    seconds = lease_seconds() if seconds is None else seconds
    return bool(
        model.objects.filter(pk=pk, lease_owner=owner).update(
            lease_expires_at=now + datetime.timedelta(seconds=seconds), **updates
        )
    )


def release(model, pk, *, owner: str, **updates) -> bool:
    """Give the job back (done or failed); ``updates`` record the outcome in the same UPDATE."""
    return bool(
        model.objects.filter(pk=pk, lease_owner=owner).update(
            lease_owner="", lease_expires_at=None, **updates
        )
    )


def expired(model, *, now: datetime.datetime | None = None, filters: Q | None = None):
    """The rows whose holder stopped renewing: a queryset of held, expired jobs."""
    rows = model.objects.exclude(lease_owner="").filter(lease_expires_at__lte=_now(now))
    if filters is not None:
        rows = rows.filter(filters)
    return rows


def take_over(
    model,
    pk,
    *,
    owner: str,
    seconds: float | None = None,
    now: datetime.datetime | None = None,
    **updates,
) -> bool:
    """Take a job whose lease expired (and only such a job) for this owner."""
    now = _now(now)
    seconds = lease_seconds() if seconds is None else seconds
    return bool(
        expired(model, now=now)
        .filter(pk=pk)
        .update(
            lease_owner=owner,
            lease_expires_at=now + datetime.timedelta(seconds=seconds),
            **updates,
        )
    )


def fail_expired(
    model, *, now: datetime.datetime | None = None, filters: Q | None = None, **updates
) -> list:
    """Release every expired lease with ``updates`` (a failed status and its reason).

    Returns the primary keys released. Each row is released by a conditional UPDATE of its own
    so that a row renewed meanwhile (its worker was only slow) is left alone.
    """
    now = _now(now)
    released = []
    for pk in list(expired(model, now=now, filters=filters).values_list("pk", flat=True)):
        if (
            model.objects.filter(pk=pk, lease_expires_at__lte=now)
            .exclude(lease_owner="")
            .update(lease_owner="", lease_expires_at=None, **updates)
        ):
            released.append(pk)
    return released


def hold(model, pk, *, owner: str) -> bool:
    """Lock the job's row (inside the caller's transaction) and tell whether this owner holds it.

    The last step of a job before its commit: a row taken over meanwhile makes the job roll back,
    and the lock keeps anyone from taking it over until the commit.
    """
    return model.objects.select_for_update().filter(pk=pk, lease_owner=owner).exists()


PROGRESS_SECONDS = 1.0


class Heartbeat:
    """Renews a held lease while a job works, and carries its progress out of its transaction.

    A job that works inside one long transaction cannot show its progress (the row it would
    update is hidden by that transaction, and updating it there would lock it). On PostgreSQL a
    thread with a connection of its own renews the lease every ``seconds / 3`` and writes the
    latest ``values`` (progress columns) beside it, committed at once. On SQLite (one writer at
    a time: development only) ``beat`` renews in the caller's own connection instead. New
    progress is written within PROGRESS_SECONDS.

    Use as a context manager; ``beat(**values)`` from progress callbacks. ``lost`` tells that a
    renewal found no row held by this owner (informative only: the thread cannot see a row that
    is not committed yet); before committing, the job checks with ``hold`` in its transaction.
    """

    def __init__(self, model, pk, *, owner: str, seconds: float | None = None):
        from django.db import connection

        self.model = model
        self.pk = pk
        self.owner = owner
        self.seconds = lease_seconds() if seconds is None else seconds
        self.interval = max(self.seconds / 3, 0.05)
        self.values: dict = {}
        self.lost = False
        self._threaded = connection.vendor == "postgresql"
        self._stop = threading.Event()
        self._thread = None
        self._last_inline = 0.0

    def __enter__(self):
        if self._threaded:
            self._thread = threading.Thread(target=self._run, daemon=True, name="lease-heartbeat")
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self) -> None:
        """Stop renewing (before the job's final, row-locking step)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def beat(self, **values) -> None:
        self.values.update(values)
        if self._threaded:
            return
        moment = time.monotonic()
        if moment - self._last_inline >= self.interval:
            self._last_inline = moment
            self._renew()

    def _renew(self) -> None:
        if not renew(self.model, self.pk, owner=self.owner, seconds=self.seconds, **self.values):
            self.lost = True

    def _run(self) -> None:
        from django.db import connection

        # Wake every second: new progress is written within a second, the lease renewed at
        # least every `interval`.
        tick = min(self.interval, PROGRESS_SECONDS)
        written, last = None, time.monotonic()
        try:
            while not self._stop.wait(tick):
                values = dict(self.values)
                if values != written or time.monotonic() - last >= self.interval:
                    self._renew()
                    written, last = values, time.monotonic()
        finally:
            connection.close()
