"""Pure computations of the billing: volumes, common-house shares, penalties, balances."""
