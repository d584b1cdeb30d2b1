"""The production stack end to end (scripts/e2e_stack.py), run only when KVARTPLATA_STACK_TEST=1."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.stack
@pytest.mark.skipif(
    os.environ.get("KVARTPLATA_STACK_TEST") != "1",
    reason="starts PostgreSQL-backed gunicorn, Huey on Redis and SMTP: set KVARTPLATA_STACK_TEST=1",
)
def test_it_runs_one_month_end_to_end_on_the_production_stack():
    # The script's own settings come from the environment it builds; the test run's must not leak.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    script = subprocess.Popen(  # noqa: S603 - the project's own script
        [sys.executable, str(ROOT / "scripts" / "e2e_stack.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = script.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        # SIGTERM first: the script then stops gunicorn, the worker and SMTP it started.
        script.send_signal(signal.SIGTERM)
        output, _ = script.communicate(timeout=60)
        pytest.fail(f"the stack run took longer than 4 minutes:\n{output}")
    assert script.returncode == 0, output
    assert "OK: one month end to end" in output
