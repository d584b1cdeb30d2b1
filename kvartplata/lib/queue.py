"""The one way to queue background work: after the current transaction commits.

Services write and return; the caller that decided the work should happen (a view, an admin
action, a command) queues the task with `enqueue_on_commit`, so that services never import
their app's tasks (tasks import services, never the reverse).
"""

from collections.abc import Callable

from django.db import transaction


def enqueue_on_commit(task: Callable, *args, **kwargs) -> None:
    """Call `task(*args, **kwargs)` (a huey task: queue it) once the transaction commits.

    Outside a transaction it is queued at once; if the transaction rolls back, never.
    """
    transaction.on_commit(lambda: task(*args, **kwargs))
