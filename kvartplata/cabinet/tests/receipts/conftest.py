"""The receipt pages' tests run in the receipts' demo world (receipts issued at every close)."""

from kvartplata.receipts.tests.conftest import (  # noqa: F401 - fixtures
    demo_client,
    demo_receipt,
    demo_user,
    frozen,
    outsider,
    world,
)
