"""The meter pages' tests run in the meters' small world (its fixtures, not the demo world)."""

from kvartplata.meters.tests.conftest import (  # noqa: F401 - fixtures
    in_window,
    resident_client,
    staff_client,
    world,
)
