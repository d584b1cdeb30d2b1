"""Meter states from the cursors that runs before 0008 kept in the JSON of the last closed month.

The next run then finds every meter's state where the set-based run looks for it. The months
billed by an estimate that a cursor remembers get a state too (only their volume is read).
"""

from decimal import Decimal

from django.db import migrations

MICRO = Decimal(1_000_000)
SLOTS = 6


def _micro(value) -> int | None:
    return None if value is None else int((Decimal(str(value)) * MICRO).to_integral_value())


def forwards(apps, schema_editor):
    Period = apps.get_model("billing", "Period")
    Charge = apps.get_model("billing", "Charge")
    MeterState = apps.get_model("billing", "MeterState")
    for organization_id in Period.objects.values_list("organization_id", flat=True).distinct():
        last = (
            Period.objects.filter(organization_id=organization_id, state="closed")
            .order_by("-month")
            .first()
        )
        if last is None or MeterState.objects.filter(period=last).exists():
            continue
        periods = {
            p.month.isoformat(): p.id
            for p in Period.objects.filter(organization_id=organization_id)
        }
        rows, seen = [], set()
        lines = Charge.objects.filter(period=last, kind="individual").values_list(
            "account_id", "details"
        )
        for account_id, details in lines.iterator(chunk_size=5000):
            for meter_id, cursor in ((details or {}).get("cursors") or {}).items():
                meter_id = int(meter_id)
                hist = (cursor.get("h") or [])[-SLOTS:]
                gap = cursor.get("g") or []
                if gap:
                    volumes = gap[-1]["vol"]
                else:
                    volumes = hist[-1] if hist else []
                row = MeterState(
                    period_id=last.id,
                    meter_id=meter_id,
                    account_id=account_id,
                    method="norm" if gap else "meter",
                    gap=len(gap),
                    hn=len(hist),
                )
                for z, value in enumerate(cursor.get("v") or [], start=1):
                    setattr(row, f"r{z}", _micro(value))
                for z, value in enumerate(volumes, start=1):
                    setattr(row, f"e{z}", _micro(value))
                for i, month in enumerate(hist):
                    slot = SLOTS - len(hist) + 1 + i
                    for z, value in enumerate(month, start=1):
                        setattr(row, f"h{z}{slot}", _micro(value))
                rows.append(row)
                seen.add((last.id, meter_id))
                for entry in gap[:-1]:
                    period_id = periods.get(entry["m"])
                    if period_id is None or (period_id, meter_id) in seen:
                        continue
                    seen.add((period_id, meter_id))
                    earlier = MeterState(
                        period_id=period_id, meter_id=meter_id, account_id=account_id,
                        method="norm", gap=0, hn=0,
                    )  # fmt: skip
                    for z, value in enumerate(entry["vol"], start=1):
                        setattr(earlier, f"e{z}", _micro(value))
                    rows.append(earlier)
            if len(rows) >= 5000:
                MeterState.objects.bulk_create(rows)
                rows = []
        MeterState.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_meter_state")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
