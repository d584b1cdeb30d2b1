"""Builds receipt snapshots (see snapshot.py) from a closed month's billing data, in batches."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import Sum
from django.utils.text import capfirst

from kvartplata.billing import ledger
from kvartplata.billing.bill_change import accounts_explanations, receipt_block
from kvartplata.billing.calc.allocation import payee_due
from kvartplata.billing.calc.volumes import round_billed
from kvartplata.billing.models import AccountBalance, Charge, Norm, Recalculation, Service
from kvartplata.lib.periods import add_months, period_label
from kvartplata.meters.models import Meter, Reading
from kvartplata.receipts.snapshot import SCHEMA_VERSION
from kvartplata.registry.models import Period, PersonalAccount
from kvartplata.registry.vocabulary import Zone, resource_label, resource_unit_label, unit_label

ZERO = Decimal("0.00")
KOPECK = Decimal("0.01")
PRIVILEGE = Recalculation.Source.PRIVILEGE
METHOD_NAMES = dict(Charge.Method.choices)


class ChargeRow(NamedTuple):
    account_id: int
    service_id: int
    kind: str
    zone: int
    method: str
    volume: Decimal
    tariff: Decimal
    coefficient: Decimal | None
    amount: Decimal


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def number(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def billed(value: Decimal, places: int) -> str:
    """A billed volume with exactly its service's billing places (what was priced is printed)."""
    return f"{round_billed(value, places):.{places}f}"


def bank(obj) -> dict:
    return {
        "name": obj.bank_name,
        "bic": obj.bic,
        "corr": obj.correspondent_account,
        "account": obj.settlement_account,
    }


class SnapshotBuilder:
    """Everything common to the month is loaded once; accounts come in batches."""

    def __init__(self, period: Period):
        self.period = period
        self.org = org = period.organization
        self.services = {
            s.id: s for s in Service.objects.filter(organization=org).select_related("provider")
        }
        self.organization = {
            "name": org.name,
            "inn": org.inn,
            "kpp": org.kpp,
            "ogrn": org.ogrn,
            "address": org.address,
            "phones": [p.strip() for p in org.phones.split(",") if p.strip()],
            "email": org.email,
            "website": org.website,
            "hours": org.hours,
            "bank": bank(org),
        }
        norms: dict[int, dict] = defaultdict(dict)
        for n in Norm.objects.filter(service__organization=org, valid_from__lte=period.month):
            norms[n.service_id][n.kind] = n.value
        self.norms = [
            {
                "service": self.services[sid].name,
                "unit": f"{unit_label(self.services[sid].unit)}/чел.",
                "individual": number(kinds.get(Norm.Kind.PER_PERSON)),
                "common": number(kinds.get(Norm.Kind.COMMON_AREA)),
            }
            for sid, kinds in sorted(norms.items(), key=lambda kv: self.services[kv[0]].sort_order)
            if Norm.Kind.PER_PERSON in kinds or Norm.Kind.COMMON_AREA in kinds
        ]
        self.buildings = self._building_reference()
        # The issued month before this one: the block «why the sum changed» compares with it.
        self.previous = (
            Period.objects.filter(
                organization=org, month__lt=period.month, state=Period.State.CLOSED
            )
            .order_by("-month")
            .first()
        )
        self.code_links = org.link_proof == org.LinkProof.RECEIPT_CODE

    def _flats_volumes(self) -> dict[tuple[int, str], Decimal]:
        """The month's individual volumes of the flats, per (building, resource): one query."""
        rows = (
            Charge.objects.filter(
                period=self.period, kind=Charge.Kind.INDIVIDUAL, service__resource__gt=""
            )
            .values_list("account__premises__building_id", "service__resource")
            .annotate(total=Sum("volume"))
        )
        return {(building, resource): total for building, resource, total in rows}

    def _building_reference(self) -> dict[int, list]:
        found: dict[int, list] = defaultdict(list)
        flats = self._flats_volumes()
        meters = Meter.objects.filter(
            scope=Meter.Scope.BUILDING, building__organization=self.org
        ).values_list("id", "building_id", "resource", "initial_value1")
        meters = {m[0]: m for m in meters}
        readings: dict[int, list] = defaultdict(list)
        for meter_id, month, value in (
            Reading.objects.filter(
                meter_id__in=meters,
                is_accepted=True,
                month__lte=self.period.month,
                month__gte=add_months(self.period.month, -1),
            )
            .order_by("meter_id", "-month")
            .values_list("meter_id", "month", "value1")
        ):
            readings[meter_id].append((month, value))
        for meter_id, (_, building_id, resource, initial) in meters.items():
            got = readings.get(meter_id, [])
            if not got or got[0][0] != self.period.month:
                continue
            previous = got[1][1] if len(got) > 1 else initial
            volume = got[0][1] - previous
            in_flats = flats.get((building_id, resource))
            found[building_id].append(
                {
                    "resource": capfirst(resource_label(resource)),
                    "reading": number(got[0][1]),
                    "volume": number(volume),
                    "unit": resource_unit_label(resource),
                    # The house's volume split: what the flats were billed individually, and
                    # the rest, the common property's (negative when the flats exceed the house).
                    "flats": number(in_flats),
                    "common_property": None if in_flats is None else number(volume - in_flats),
                }
            )
        return found

    def build(self, account_ids: list[int], numbers: dict[int, int], issued_at: datetime.datetime):
        """Snapshots of the given accounts, keyed by account id (a few queries for the batch)."""
        period = self.period
        accounts = {
            a.id: a
            for a in PersonalAccount.objects.filter(id__in=account_ids).select_related(
                "premises__building"
            )
        }
        balances = {
            b.account_id: b
            for b in AccountBalance.objects.filter(period=period, account_id__in=account_ids)
        }
        charges: dict[int, list[ChargeRow]] = defaultdict(list)
        for row in (
            Charge.objects.filter(period=period, account_id__in=account_ids)
            .order_by("service__sort_order", "zone")
            .values_list(*ChargeRow._fields)
        ):
            charges[row[0]].append(ChargeRow(*row))
        recalcs: dict[int, list[Recalculation]] = defaultdict(list)
        for r in Recalculation.objects.filter(period=period, account_id__in=account_ids).order_by(
            "concerns_month", "id"
        ):
            recalcs[r.account_id].append(r)
        meters = self._meters(account_ids)
        self.dues = ledger.payee_dues(period, account_ids)  # per payee, for the QR codes
        snapshots = {}
        for account_id in account_ids:
            account = accounts[account_id]
            balance = balances.get(account_id)
            if balance is None:
                continue
            snapshots[account_id] = self._snapshot(
                account,
                balance,
                charges[account_id],
                recalcs[account_id],
                meters.get(account_id, []),
                numbers[account_id],
                issued_at,
            )
        if self.previous and snapshots:
            # Why the sum changed, from the same rule as the cabinet's (five queries a batch).
            why = accounts_explanations(list(snapshots), period, self.previous)
            for account_id, snapshot in snapshots.items():
                snapshot["change"] = receipt_block(why[account_id])
        return snapshots

    def _meters(self, account_ids) -> dict[int, list]:
        month = self.period.month
        rows = list(
            Meter.objects.filter(account_id__in=account_ids, installed_on__lte=add_months(month, 1))
            .exclude(archived_on__lt=month)
            .values_list(
                "id",
                "account_id",
                "resource",
                "serial_number",
                "zones",
                "initial_value1",
                "initial_value2",
                "initial_value3",
            )
        )
        readings: dict[int, list] = defaultdict(list)
        for meter_id, m, v1, v2, v3 in (
            Reading.objects.filter(
                meter_id__in=[r[0] for r in rows],
                is_accepted=True,
                month__lte=month,
                month__gte=add_months(month, -12),
            )
            .order_by("meter_id", "-month")
            .values_list("meter_id", "month", "value1", "value2", "value3")
        ):
            if len(readings[meter_id]) < 2:
                readings[meter_id].append((m, (v1, v2, v3)))
        found: dict[int, list] = defaultdict(list)
        for meter_id, account_id, resource, serial, zones, *initial in rows:
            got = readings.get(meter_id, [])
            current = got[0][1] if got and got[0][0] == month else None
            before = (
                got[1][1]
                if current is not None and len(got) > 1
                else (got[0][1] if got and current is None else tuple(initial))
            )
            for z in range(zones):
                found[account_id].append(
                    {
                        "service": capfirst(resource_label(resource)),
                        "serial": serial,
                        "zone": str(Zone(z + 1).label) if zones > 1 else "",
                        "previous": number(before[z]) if before[z] is not None else None,
                        "current": number(current[z]) if current else None,
                        "unit": resource_unit_label(resource),
                    }
                )
        return found

    def _snapshot(self, account, balance, charges, recalcs, meters, receipt_number, issued_at):
        period = self.period
        lines: dict[tuple[int, int], dict] = {}
        recalc_by_service: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
        privilege_by_service: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
        for r in recalcs:
            # A privilege or subsidy is a recalculation of its own kind: its own column.
            target = privilege_by_service if r.source == PRIVILEGE else recalc_by_service
            target[r.service_id] += r.amount
        # Individual lines first, so that the common-house part can join its service's line.
        for c in sorted(charges, key=lambda c: c.kind != Charge.Kind.INDIVIDUAL):
            service = self.services[c.service_id]
            zone = c.zone if c.kind == Charge.Kind.INDIVIDUAL else 0
            key = (service.id, zone)
            suffix = f", {Zone(zone).label}" if zone and service.zones > 1 else ""
            if key not in lines and c.kind == Charge.Kind.COMMON_HOUSE:
                # The common-house part joins its service's line when the tariff is the same,
                # so that volume × tariff still gives the line's amount; else a line of its own.
                same = [k for k, v in lines.items() if k[0] == service.id]
                if same and lines[same[0]]["tariff"] == number(c.tariff):
                    key = same[0]
                elif same:
                    key, suffix = (service.id, -1), " (ОДН)"
            line = lines.setdefault(
                key,
                {
                    "service": service.name + suffix,
                    "provider": service.provider.short_name or service.provider.name,
                    "unit": unit_label(service.unit),
                    "volume": None,
                    "common_volume": None,
                    "tariff": number(c.tariff),
                    "_charged": ZERO,
                    "_common": ZERO,
                    "_coef": ZERO,
                    "_recalc": ZERO,
                    "_priv": ZERO,
                    "method": "",
                    "explanation": "",
                    "_provider_id": service.provider_id,
                },
            )
            if c.kind == Charge.Kind.COMMON_HOUSE:
                line["common_volume"] = billed(c.volume, service.places)
                line["_common"] += c.amount
            else:
                line["volume"] = billed(c.volume, service.places)
                line["method"] = str(METHOD_NAMES.get(c.method, ""))
                if c.coefficient:
                    base = c.volume / c.coefficient
                    line["_coef"] += (c.amount - (base * c.tariff)).quantize(
                        KOPECK, rounding=ROUND_HALF_UP
                    )
            line["_charged"] += c.amount
        for service_id, amount, column in [
            *((sid, a, "_recalc") for sid, a in recalc_by_service.items()),
            *((sid, a, "_priv") for sid, a in privilege_by_service.items()),
        ]:
            key = next((k for k in lines if k[0] == service_id), None)
            if key is None:
                service = self.services.get(service_id)
                key = (service_id or 0, 99)
                lines[key] = {
                    "service": service.name if service else "Перерасчёт",
                    "provider": (service.provider.short_name if service else self.org.short_name),
                    "unit": "",
                    "volume": None,
                    "common_volume": None,
                    "tariff": None,
                    "_charged": ZERO,
                    "_common": ZERO,
                    "_coef": ZERO,
                    "_recalc": ZERO,
                    "_priv": ZERO,
                    "method": "",
                    "explanation": "",
                    "_provider_id": service.provider_id if service else None,
                }
            lines[key][column] += amount
        charge_rows, by_provider = [], defaultdict(lambda: ZERO)
        for line in lines.values():
            # Privileges are negative amounts of the ledger, printed as a positive reduction.
            total = line["_charged"] + line["_recalc"] + line["_priv"]
            by_provider[line.pop("_provider_id")] += total
            charged = line["_charged"] - line["_coef"]
            charge_rows.append(
                {
                    **{k: v for k, v in line.items() if not k.startswith("_")},
                    "charged": money(charged),
                    "coefficient_amount": money(line["_coef"]),
                    "recalculations": money(line["_recalc"]),
                    "privileges": money(-line["_priv"]),
                    "total": money(total),
                    "amount_individual": money(charged - line["_common"]),
                    "amount_common": money(line["_common"]),
                    "total_individual": money(total - line["_common"]),
                    "total_common": money(line["_common"]),
                }
            )
        if not charge_rows:
            charge_rows.append(
                {
                    "service": "Начислений нет",
                    "provider": self.org.short_name,
                    "unit": "",
                    "volume": None,
                    "common_volume": None,
                    "tariff": None,
                    "charged": "0.00",
                    "coefficient_amount": "0.00",
                    "recalculations": "0.00",
                    "privileges": "0.00",
                    "total": "0.00",
                    "method": "",
                    "explanation": "",
                    "amount_individual": "0.00",
                    "amount_common": "0.00",
                    "total_individual": "0.00",
                    "total_common": "0.00",
                }
            )
        charges_total = sum((Decimal(r["total"]) for r in charge_rows), ZERO)

        def column(key: str) -> str:
            return money(sum((Decimal(r[key]) for r in charge_rows), ZERO))

        privileges = sum(privilege_by_service.values(), ZERO)
        total_due = balance.closing
        premises = account.premises
        building = premises.building
        address = f"{building.address}, кв. {premises.number}"
        return {
            "version": SCHEMA_VERSION,
            "number": receipt_number,
            "issued_at": issued_at.isoformat(),
            "period": period.month.isoformat(),
            "due_date": period.due_date.isoformat(),
            "organization": self.organization,
            "account": {
                "number": account.number,
                "holder": {
                    "last": account.holder_last_name,
                    "first": account.holder_first_name,
                    "middle": account.holder_middle_name,
                },
                "address": address,
                "area": f"{account.area:.2f}",
                "living_area": f"{premises.living_area:.2f}" if premises.living_area else None,
                "residents": account.residents,
                # The code the organization accepts to link the account in the cabinet; when it
                # accepts the receipt's total instead, the receipt says so (empty code).
                "link_code": account.link_code if self.code_links else "",
            },
            "payees": self._payees(account, by_provider, total_due),
            "meters": meters,
            "charges": charge_rows,
            "totals": {
                "opening": money(balance.opening),
                "charges": money(charges_total),
                # The ledger's recalculations less the privileges, which have their own column.
                "recalculations": money(balance.recalculations - privileges),
                "penalties": money(balance.penalties),
                "payments": money(balance.payments),
                "total_due": money(total_due),
                "amount_individual": column("amount_individual"),
                "amount_common": column("amount_common"),
                "charged": column("charged"),
                "coefficient_amount": column("coefficient_amount"),
                "privileges": column("privileges"),
                "total_individual": column("total_individual"),
                "total_common": column("total_common"),
            },
            "recalculations": [
                {
                    "service": self.services[r.service_id].name if r.service_id else "",
                    "month": r.concerns_month.isoformat(),
                    "amount": money(r.amount),
                    "reason": r.reason,
                }
                for r in recalcs
                if r.source != PRIVILEGE
            ],
            "reference": {"norms": self.norms, "building": self.buildings.get(building.id, [])},
            # No instalment plans are granted by the system yet: section 6 says so.
            "instalments": [],
            "notice": "",
        }

    def _payees(self, account, by_provider, total_due) -> list[dict]:
        """One payee per provider: its own old debt (or − advance) + its month, never negative
        (`ledger.payee_dues`). The executor's also carries what names no payee; a receipt has at
        most three payees, so a fourth provider's (rare) stays with the executor too."""
        providers = {}
        for s in self.services.values():
            providers[s.provider_id] = s.provider
        if not providers:
            # No services at all: the organization itself is the one payee (its bank details).
            providers[None] = self.org
        executor_id = next(
            (pid for pid, p in providers.items() if p.inn == self.org.inn), None
        ) or next(iter(providers))
        dues = self.dues.get(account.id, {})
        owed = {pid for pid, d in dues.items() if d.amount > 0 and pid in providers}
        others = sorted(pid for pid in set(by_provider) | owed if pid and pid != executor_id)
        order = [executor_id, *others[:2]]
        movement: dict = {pid: [ZERO, ZERO] for pid in order}
        for pid, due in dues.items():
            opening_month = movement[pid if pid in movement else executor_id]
            opening_month[0] += due.debt - due.advance
            opening_month[1] += due.month
        month = period_label(self.period.month)
        result = []
        for pid in order:
            provider = providers[pid]
            due = payee_due(*movement[pid])
            result.append(
                {
                    "name": provider.name,
                    "inn": provider.inn,
                    "kpp": provider.kpp,
                    "bank": bank(provider),
                    "amount": money(due.amount),
                    "debt": money(due.debt),
                    "advance": money(due.advance),
                    "purpose": f"Оплата ЖКУ за {month}, ЛС {account.number}",
                    "services": [s.name for s in self.services.values() if s.provider_id == pid][
                        :8
                    ],
                }
            )
        return result
