"""Pure computations of the billing: volumes, common-house shares, penalties, balances.

`calc` is the specification: pure functions (dates passed in, no ORM), each with hand-computed
tests. Rule by rule, the production implementation is either Python calling these functions, or
SQL in `billing/setbased.py` that is the rule's only implementation and is checked against them
by the differential hypothesis test `billing/tests/test_setbased.py` (random worlds of flats,
meters, readings, norms, a building meter and heating over up to 8 months; SQLite and
PostgreSQL). There is no second biller and no switch between engines.

Volumes (`calc.volumes`, ПП 354):

* billing precision and half-up rounding before pricing (`billing_places`, `round_billed`,
  `line_amount`): SQL (`setbased.billed`), checked; explanations print with `format_billed`
  (Python);
* consumption between readings, rollover by digit capacity (`meter_consumption`): SQL for flat
  meters, checked; Python for building meters (`engine.Context`);
* readings → average (≤ 3 periods, 6 months; 3 for a meter younger than 6 months) → norm, and
  the coefficient (`choose_volume`, `average_monthly`): SQL, checked. Decision (пп. 59–60): an
  unverified or broken meter with no average to stand in is billed by the norm × the
  coefficient at once; a working meter without readings and history by the plain norm;
* several meters of a resource in a flat (`combine_meters`): SQL, checked — volumes add up; if
  one meter falls to the norm the flat is billed by the norm, × the coefficient of that meter;
* late readings spread over the estimated months (`spread_late_consumption`, п. 61): SQL,
  checked for the lines; the recalculations of the estimated months by hand-computed tests;
* norm volumes per person and per m² (`norm_volume`): SQL, checked (heating, no meter);
* the increasing coefficient per resource and month (`increasing_coefficient`, table
  `IncreasingCoefficient`): Python, passed to SQL. Decision: the coefficient in force on the
  month's first day applies to the whole month (cold water 3 from 6 December 2025 applies from
  January 2026's bill);
* a tariff changing within a month: refused — `Tariff.clean` accepts only tariffs from the 1st
  to a month's last day, so a month always has one tariff.

Common-house needs (`calc.common_house`): the building's common volume (formula 12, from the
flats' volumes *without* the coefficient, a negative difference as zero) is Python calling
`odn_volume_with_meter` (`engine.common_house_buildings`); the flat's share by area (`area_share`),
the formula 15 share, the cap by the norm and the charge (`odn_charge`) are SQL, checked.

Penalties and the ledger (`calc.penalties`, `calc.ledger`, `calc.allocation`): Python calling
calc in `billing/ledger.py` — the debt month of an entry (`debt_month`: a raising recalculation
is due with the receipt of the month it is booked in), open debts per month and payee
(`open_debts`), the allocation of every payment (`allocate_payments`, the only one: registries,
matching by hand, the demo), penalties per debt and payee (`penalties_for_month`) and each
payee's amount on the receipt (`payee_due`). The SQL that picks the accounts whose penalties are
computed (`ledger.penalty_debtors`) is a filter only, checked by a property test to keep every
account the rules give a penalty.
"""
