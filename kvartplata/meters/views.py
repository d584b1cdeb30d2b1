"""Pages of meters outside the cabinet: staff tools and the reminders' unsubscribe link.

The resident's pages of an account's meters are in ``kvartplata.cabinet.meter_views``.
"""

from datetime import date

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kvartplata.lib.periods import add_months, month_start, parse_period, period_label
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.meters import selectors, services
from kvartplata.meters.forms import (
    ExportForm,
    ImportForm,
    ReplaceForm,
    StaffReadingForm,
)
from kvartplata.meters.imports import readings_export, readings_file_upload
from kvartplata.meters.models import Meter, ReadingsFile
from kvartplata.meters.tasks import UNSUBSCRIBE_SALT, import_readings_file
from kvartplata.registry.models import Organization

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
OFFICE_PAGE_SIZE = 50
# The staff roles (permission groups, backoffice.services): every staff member with the readings
# in their role sees them; the operator enters and imports them and replaces meters.
VIEW_READINGS = "meters.view_reading"
ENTER_READINGS = "meters.add_reading"
REPLACE_METERS = "meters.change_meter"


def _may(permission: str):
    """The staff member's role must hold `permission` (else 403, «Недостаточно прав»)."""
    return permission_required(permission, raise_exception=True)


# --- unsubscribe from reminders -------------------------------------------------------------


def _user_from_token(token: str):
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


# The link in an e-mail is the credential; mail clients' one-click unsubscribe (RFC 8058)
# posts without a CSRF token, and GET only shows the button so that link scanners change nothing.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    user = _user_from_token(token)
    if user is None:
        return render(request, "meters/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        services.reminders_opt_out(user=user)
        return render(request, "meters/unsubscribe.html", {"done": True})
    return render(request, "meters/unsubscribe.html", {"token": token})


# --- staff tools ---------------------------------------------------------------------------


def _staff_organization(request) -> Organization:
    """Staff see their own organization; a superuser without one may pick any."""
    if request.user.organization_id:
        return request.user.organization
    if request.user.is_superuser:
        wanted = request.GET.get("organization") or request.POST.get("organization")
        queryset = Organization.objects.order_by("pk")
        if wanted and wanted.isdigit():
            return get_object_or_404(queryset, pk=int(wanted))
        organization = queryset.first()
        if organization:
            return organization
    raise Http404("Сотрудник не привязан к организации")


def _staff_meter(request, meter_id: int) -> Meter:
    organization = _staff_organization(request)
    meter = get_object_or_404(
        Meter.objects.select_related("account__organization", "building__organization"),
        pk=meter_id,
    )
    owner = meter.account.organization if meter.account_id else meter.building.organization
    if owner.pk != organization.pk:
        raise Http404("Прибор другой организации")
    return meter


def _month_param(request, default: date) -> date:
    try:
        return parse_period(request.GET.get("month", ""))
    except ValueError:
        return default


@staff_member_required
@_may(VIEW_READINGS)
def office(request):
    organization = _staff_organization(request)
    today = timezone.localdate()
    month = _month_param(request, month_start(today))
    missing = selectors.accounts_without_readings(organization=organization, month=month)
    paginator = Paginator(missing, OFFICE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "meters/office.html",
        {
            "organization": organization,
            "month": month,
            "month_label": period_label(month),
            "month_value": f"{month:%Y-%m}",
            "previous_month": f"{add_months(month, -1):%Y-%m}",
            "next_month": f"{add_months(month, 1):%Y-%m}",
            "missing": page,
            "missing_count": paginator.count,
            "import_form": ImportForm(),
            "readings_files": ReadingsFile.objects.filter(organization=organization)[:5],
            "export_form": ExportForm(initial={"month": f"{month:%Y-%m}"}),
            "building_meters": selectors.building_meters(organization=organization),
        },
    )


@staff_member_required
@_may(ENTER_READINGS)
@require_http_methods(["POST"])
def office_import(request):
    organization = _staff_organization(request)
    form = ImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", "Файл больше 20 МБ: разделите его на части.")
        else:
            # Loaded by the task queue (no request timeout); the file's page shows the progress.
            readings_file = readings_file_upload(
                organization=organization,
                name=upload.name,
                content=upload.read(),
                user=request.user,
            )
            enqueue_on_commit(import_readings_file, readings_file.pk)
            return redirect("meters_site:office_import_file", file_id=readings_file.pk)
    return render(
        request,
        "meters/import_report.html",
        {"organization": organization, "form": form, "report": report},
        status=400,
    )


@staff_member_required
@_may(VIEW_READINGS)
def office_import_file(request, file_id: int):
    """A readings file's progress while the queue loads it, then its per-line report."""
    organization = _staff_organization(request)
    readings_file = get_object_or_404(ReadingsFile, pk=file_id, organization=organization)
    return render(
        request,
        "meters/import_file.html",
        {"organization": organization, "file": readings_file},
    )


@staff_member_required
@_may(VIEW_READINGS)
def office_export(request):
    organization = _staff_organization(request)
    form = ExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Укажите месяц в виде ГГГГ-ММ, например 2026-03.")
        return redirect("meters_site:office")
    month = form.cleaned_data["month"]
    body = "\ufeff" + readings_export(organization=organization, month=month)
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="readings-{month:%Y-%m}.csv"'
    return response


@staff_member_required
@_may(VIEW_READINGS)
@require_http_methods(["GET", "POST"])
def office_reading(request, meter_id: int):
    """Readings entered by an operator (from a paper form, a phone call) or of a building meter."""
    meter = _staff_meter(request, meter_id)
    today = timezone.localdate()
    if request.method == "POST":
        if not request.user.has_perm(ENTER_READINGS):
            raise PermissionDenied("Недостаточно прав для ввода показаний.")
        form = StaffReadingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            values = [data["value1"], data["value2"], data["value3"]][: meter.zones]
            if meter.scope == Meter.Scope.BUILDING:
                result = services.building_readings_submit(
                    building=meter.building,
                    entries=[services.ReadingEntry(meter.pk, tuple(values))],
                    month=data["month"],
                    user=request.user,
                    today=today,
                )
            else:
                result = services.reading_enter(
                    meter=meter,
                    month=data["month"],
                    values=values,
                    user=request.user,
                    today=today,
                    confirm_high=data["confirm_high"],
                )
            if result.ok:
                messages.success(
                    request,
                    f"Показания прибора № {meter.serial_number} за {period_label(result.month)} "
                    f"сохранены. {result.notice}".strip(),
                )
                return redirect(reverse("meters_site:office_reading", args=[meter.pk]))
            if result.form_error:
                form.add_error(None, result.form_error)
            for (_meter_id, zone), message in result.errors.items():
                form.add_error(f"value{max(zone, 1)}", message)
            for message in result.confirmations.values():
                form.add_error("confirm_high", message)
    else:
        form = StaffReadingForm(initial={"month": f"{month_start(today):%Y-%m}"})
    history = selectors.meter_history_rows(meter=meter)
    return render(
        request,
        "meters/office_reading.html",
        {"meter": meter, "form": form, "history": history[:24]},
    )


@staff_member_required
@_may(REPLACE_METERS)
@require_http_methods(["GET", "POST"])
def office_replace(request, meter_id: int):
    meter = _staff_meter(request, meter_id)
    if request.method == "POST":
        form = ReplaceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = services.meter_replace(
                    meter=meter,
                    replaced_on=data["replaced_on"],
                    final_values=[data["final1"], data["final2"], data["final3"]][: meter.zones],
                    serial_number=data["serial_number"],
                    initial_values=[data["initial1"], data["initial2"], data["initial3"]][
                        : meter.zones
                    ],
                    verified_on=data["verified_on"],
                    next_verification_on=data["next_verification_on"],
                    model=data["model"],
                    seal_number=data["seal_number"],
                    user=request.user,
                    today=timezone.localdate(),
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    target = {
                        "final_values": "final1",
                        "initial_values": "initial1",
                        "meter": None,
                        "zones": None,
                    }.get(name, name)
                    for message in errors:
                        form.add_error(target if target in form.fields else None, message)
            else:
                messages.success(
                    request,
                    f"Прибор № {meter.serial_number} заменён на № {new.serial_number}.",
                )
                return redirect(reverse("meters_site:office_reading", args=[new.pk]))
    else:
        form = ReplaceForm(initial={"replaced_on": timezone.localdate()})
    return render(request, "meters/office_replace.html", {"meter": meter, "form": form})
