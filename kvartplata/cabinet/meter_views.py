"""The resident's meter pages of an account: the list with the readings form, a meter's history."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods

from kvartplata.cabinet.access import linked_account, page_context
from kvartplata.lib.periods import period_label
from kvartplata.meters import selectors, services
from kvartplata.meters.forms import ReadingsForm
from kvartplata.meters.services import reading_point
from kvartplata.meters.validation import reading_month
from kvartplata.registry.models import PersonalAccount

SECTION = "cabinet:meters:meter_list"


def _window(account: PersonalAccount, today: date):
    building = account.premises.building
    return building.readings_window(), reading_month(
        today=today,
        window=building.readings_window(),
        outside=account.organization.readings_outside_window,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meter_list(request, account_id: int):
    account = linked_account(request, account_id)
    today = timezone.localdate()
    rows = selectors.account_meters(account=account, today=today, with_history=False)
    working = [r for r in rows if not r.meter.is_archived]
    form_meters = [(r.meter, r.zones) for r in working]
    (day_from, day_to), decision = _window(account, today)

    if request.method == "POST":
        form = ReadingsForm(request.POST, meters=form_meters)
        if form.is_valid():
            result = services.reading_submit(
                account=account, entries=form.entries(), user=request.user, today=today
            )
            if result.ok:
                messages.success(
                    request,
                    f"Показания за {period_label(result.month)} приняты: "
                    f"{len(result.readings)} шт. {result.notice}".strip(),
                )
                return redirect(request.path)
            form.add_submission_errors(result)
    else:
        form = ReadingsForm(meters=form_meters)

    submitted = (
        selectors.account_month_readings(account=account, month=decision.month)
        if decision.month
        else {}
    )
    cards = [
        {
            "row": r,
            "fields": form.value_fields(r.meter.pk),
            "confirm": form.confirm_field(r.meter.pk),
            "show_confirm": bool(form[f"confirm_{r.meter.pk}"].errors)
            or bool(form.data.get(f"confirm_{r.meter.pk}")),
            "submitted": submitted.get(r.meter.pk),
            "submitted_values": (
                reading_point(submitted[r.meter.pk], r.meter).values
                if r.meter.pk in submitted
                else ()
            ),
        }
        for r in working
    ]
    return render(
        request,
        "cabinet/meters/meter_list.html",
        page_context(
            request,
            account,
            SECTION,
            cards=cards,
            archived=[r for r in rows if r.meter.is_archived],
            form=form,
            form_errors=_error_summary(form, cards),
            decision=decision,
            day_from=day_from,
            day_to=day_to,
            month_label=period_label(decision.month) if decision.month else "",
            today=today,
        ),
    )


def _error_summary(form, cards) -> list[dict]:
    """Every field error of the readings form with the meter it concerns, for the list on top."""
    summary = []
    for card in cards:
        meter = card["row"].meter
        name = f"{capfirst(meter.get_resource_display())}, № {meter.serial_number}"
        bound = [*card["fields"], card["confirm"]]
        for field in bound:
            for message in field.errors:
                summary.append(
                    {
                        "anchor": field.auto_id,
                        "meter": name,
                        "message": message,
                    }
                )
    return summary


@login_required
def meter_history(request, account_id: int, meter_id: int):
    account = linked_account(request, account_id)
    row = selectors.meter_of_account(account=account, meter_id=meter_id, today=timezone.localdate())
    if row is None:
        raise Http404("Нет такого прибора учёта")
    return render(
        request,
        "cabinet/meters/meter_history.html",
        page_context(request, account, SECTION, row=row),
    )
