"""The account statement read model: what it reads equals what the ledger and the run stored."""

from decimal import Decimal

from kvartplata.billing.models import AccountBalance, Charge, LedgerEntry, Recalculation, Service
from kvartplata.registry.models import PersonalAccount
from kvartplata.statements import selectors
from kvartplata.statements.tests.conftest import TODAY


def _accounts(world):
    return list(PersonalAccount.objects.filter(organization=world.organization).order_by("id"))


def test_services_come_with_their_providers_in_the_receipts_order(world):
    services = selectors.organization_services(world.organization.id)
    expected = Service.objects.filter(organization=world.organization).order_by("sort_order", "id")
    assert list(services) == [s.id for s in expected]
    for service in expected:
        got = services[service.id]
        assert (got.name, got.unit, got.provider.name) == (
            service.name,
            service.unit,
            service.provider.name,
        )


def test_a_months_charges_are_the_runs_lines_and_recalculations(world):
    periods = selectors.organization_periods(world.organization.id)
    issued = selectors.last_issued_of(periods)
    for account in _accounts(world):
        month = selectors.month_charges(account, issued)
        lines = Charge.objects.filter(account=account, period=issued)
        recalculations = Recalculation.objects.filter(account=account, period=issued)
        assert month.base == sum((c.amount for c in lines), Decimal(0))
        assert month.recalculated == sum((r.amount for r in recalculations), Decimal(0))
        shown = [c for group in month.services for c in group.lines + group.common_lines]
        assert sorted(c.id for c in shown) == sorted(c.id for c in lines)
        # Lines in the order of the receipt, each with its service and an explanation.
        orders = [(c.service.sort_order, c.service_id) for c in shown]
        assert orders == sorted(orders)
        assert all(c.explanation for c in shown)


def test_the_movement_adds_up_to_the_stored_balances(world):
    periods = selectors.organization_periods(world.organization.id)
    closed = selectors.issued_of(periods)
    for account in _accounts(world):
        movement = selectors.money_movement(
            account, periods, closed[0].month, closed[-1].month, issued=True
        )
        assert movement.adds_up
        last = AccountBalance.objects.get(account=account, period=closed[-1])
        assert movement.closing == last.closing
        paid = -sum(
            (
                e.amount
                for e in LedgerEntry.objects.filter(
                    account=account, period__in=closed, kind=LedgerEntry.Kind.PAYMENT
                )
            ),
            Decimal(0),
        )
        assert movement.payments == paid
        assert sum((line.amount for m in movement.months for line in m.payment_lines), 0) == paid


def test_the_state_is_the_last_receipt_less_payments_since(world):
    periods = selectors.organization_periods(world.organization.id)
    issued = selectors.last_issued_of(periods)
    current = selectors.current_of(periods)
    for account in _accounts(world):
        state = selectors.account_state(account, periods, today=TODAY)
        closing = AccountBalance.objects.get(account=account, period=issued).closing
        since = sum(
            (
                e.amount
                for e in LedgerEntry.objects.filter(
                    account=account, period=current, kind=LedgerEntry.Kind.PAYMENT
                )
            ),
            Decimal(0),
        )
        assert state.receipt_amount == closing
        assert state.balance == closing + since
