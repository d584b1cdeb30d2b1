"""What an account owes each payee, and how a payment is split among debts: the allocation rule.

The ledger posts every payment through `allocate_payments` (`billing.ledger.post_payments`,
which the bank registries, matching by hand and the demo all call); nothing else allocates.

A payee is the provider a charge is due to (`Service.provider`), given by its id; None stands
for the servicing organization itself (entries that name no provider: a recalculation without a
service, a balance carried over from before payees were kept).

The rule:

1. **Debt month.** An entry is a debt of the month it concerns, except a recalculation that
   raises the bill: it is a debt of the month it is booked in (`debt_month`), since the first
   receipt that shows it is that month's, and so it falls due (and accrues penalties) from that
   receipt's due date. A recalculation that lowers the bill lowers the debt of the month it
   corrects (the payer owed that much less from the start).
2. **Open debts per payee** (`open_debts`). Each payee is kept apart. Its month-less net is its
   advance; going through its months oldest first, an overpaid month adds to the advance and
   the advance pays the later months as far as it goes. An advance of one payee never pays
   another payee's debt.
3. **A payment** (`allocate_payment`) pays the period the payer named first, then the oldest
   debts. Within a month it is split among the payees in proportion to what is due to each:
   each share rounded half-up to kopecks, the kopeck left over (or taken back) going to the
   payee with the largest debt of the month. A payment that names a payee pays only that
   payee's debts (its named month first, then its oldest). What is left after every debt is
   paid is an advance: of the payee named, or else split in proportion to the month's charges
   per payee (`advance_weights`: the period's, or the latest month's before it is billed), the
   same way; with no charges, of the organization (None).
4. Payments of an account go in order of (day, id), each from what the ones before left
   (`allocate_payments`).

Penalties follow the debt they accrue on: a penalty line has the payee of its debt.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

Payee = int | None
Key = tuple[date, Payee]
KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")


def debt_month(concerns_month: date | None, booked_month: date, *, raising_recalculation: bool):
    """The month an entry is a debt of: the month it concerns, the booking month for a
    recalculation that raises the bill (None for the month-less entries: an advance)."""
    return booked_month if raising_recalculation else concerns_month


def open_debts(nets: Mapping[tuple[date | None, Payee], Decimal]) -> dict[Key, Decimal]:
    """Unpaid amount per (month, payee) from the net of each (month, payee) of the journal.

    `nets` are the sums of charges, recalculations and payments (penalties aside) by debt
    month and payee; the month None holds each payee's advance.
    """
    by_payee: dict[Payee, dict[date | None, Decimal]] = {}
    for (month, payee), amount in nets.items():
        by_payee.setdefault(payee, {})[month] = amount
    unpaid: dict[Key, Decimal] = {}
    for payee, months in by_payee.items():
        months = dict(months)
        advance = -months.pop(None, ZERO)
        for month in sorted(months):
            amount = months[month]
            if amount <= 0:
                advance -= amount  # an overpaid month works as an advance
                continue
            if advance > 0:
                used = min(advance, amount)
                amount -= used
                advance -= used
            if amount > 0:
                unpaid[(month, payee)] = amount
    return unpaid


def _order(payee: Payee) -> tuple:
    return (payee is not None, payee or 0)


def split(
    amount: Decimal, weights: Mapping[Payee, Decimal], *, caps: bool = False
) -> dict[Payee, Decimal]:
    """Split `amount` in proportion to positive `weights`: shares half-up to kopecks, the
    difference kopeck by kopeck to the largest weight first (ties: the lower payee id).

    With `caps`, no share exceeds its weight (the weights are debts and `amount` is at most
    their sum). Payees whose share is zero are left out.
    """
    weights = {p: w for p, w in weights.items() if w > 0}
    total = sum(weights.values(), ZERO)
    if total <= 0:
        raise ValueError("Нет долей, между которыми делить сумму.")
    if caps and amount > total:
        raise ValueError("Сумма больше суммы долей.")
    shares = {
        p: (amount * w / total).quantize(KOPECK, rounding=ROUND_HALF_UP) for p, w in weights.items()
    }
    left = amount - sum(shares.values(), ZERO)
    if left != 0:  # the order is needed only then (most splits come out even)
        largest_first = sorted(weights, key=lambda p: (-weights[p], _order(p)))
    while left != 0:
        step = KOPECK if left > 0 else -KOPECK
        for p in largest_first:
            share = shares[p] + step
            if share >= 0 and (not caps or share <= weights[p]):
                shares[p] = share
                left -= step
                break
        else:  # cannot happen: the shares can always take the difference back
            raise ValueError("Не удалось разделить сумму.")
    if len(shares) == 1:
        return {p: share for p, share in shares.items() if share != 0}
    return {p: shares[p] for p in sorted(shares, key=_order) if shares[p] != 0}


class Allocation(NamedTuple):
    month: date | None  # None: an advance
    payee: Payee
    amount: Decimal


def allocate_payment(
    amount: Decimal,
    debts: Mapping[Key, Decimal],
    *,
    named_month: date | None = None,
    named_payee: Payee = None,
    advance_weights: Mapping[Payee, Decimal] | None = None,
) -> list[Allocation]:
    """Split one payment over the open debts by (month, payee), as the module docstring says.

    `named_payee` None means the payment names no payee.
    """
    if amount < 0:
        raise ValueError("Сумма платежа не может быть отрицательной.")
    owed: dict[date, dict[Payee, Decimal]] = {}
    for (month, payee), due in debts.items():
        if due > 0 and (named_payee is None or payee == named_payee):
            owed.setdefault(month, {})[payee] = due
    order = sorted(owed)
    if named_month in owed:
        order.remove(named_month)
        order.insert(0, named_month)
    result: list[Allocation] = []
    left = amount
    for month in order:
        if left <= 0:
            break
        due = owed[month]
        part = min(left, sum(due.values(), ZERO))
        for payee, share in split(part, due, caps=True).items():
            result.append(Allocation(month, payee, share))
        left -= part
    if left > 0:
        if named_payee is not None:
            result.append(Allocation(None, named_payee, left))
        elif advance_weights and any(w > 0 for w in advance_weights.values()):
            for payee, share in split(left, advance_weights).items():
                result.append(Allocation(None, payee, share))
        else:
            result.append(Allocation(None, None, left))
    return result


class PaymentIn(NamedTuple):
    """A payment to allocate: its id, day, amount and what the payer named, if anything."""

    id: int
    paid_on: date
    amount: Decimal
    month: date | None = None
    payee: Payee = None


def allocate_payments(
    debts: Mapping[Key, Decimal],
    payments: Iterable[PaymentIn],
    advance_weights: Mapping[Payee, Decimal] | None = None,
) -> list[tuple[PaymentIn, Allocation]]:
    """Allocate an account's payments in order of (day, id), each from what the earlier left."""
    unpaid = {key: due for key, due in debts.items() if due > 0}
    result = []
    for payment in sorted(payments, key=lambda p: (p.paid_on, p.id)):
        for part in allocate_payment(
            payment.amount,
            unpaid,
            named_month=payment.month,
            named_payee=payment.payee,
            advance_weights=advance_weights,
        ):
            result.append((payment, part))
            if part.month is not None:
                key = (part.month, part.payee)
                unpaid[key] -= part.amount
                if unpaid[key] <= 0:
                    del unpaid[key]
    return result


class PayeeDue(NamedTuple):
    """What a receipt shows for one payee: the debt (> 0) or advance (> 0) from earlier
    months, the month's movement, and the QR's Sum (never negative)."""

    debt: Decimal
    advance: Decimal
    month: Decimal
    amount: Decimal


def payee_due(opening: Decimal, month: Decimal) -> PayeeDue:
    """A payee's own old debt (or − its advance) + its month, never below zero."""
    return PayeeDue(
        debt=max(opening, ZERO),
        advance=max(-opening, ZERO),
        month=month,
        amount=max(opening + month, ZERO),
    )
