"""The reports pages: a filter form, the table on screen, the same as .xlsx or CSV."""

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from kvartplata.backoffice import reports
from kvartplata.backoffice.downloads import csv_response, xlsx_response
from kvartplata.backoffice.office import office_context, office_organization, office_view
from kvartplata.backoffice.report_forms import DebtorsForm, ReportForm, TurnoverForm
from kvartplata.lib.periods import add_months
from kvartplata.registry.models import Building, Period

PERMISSION = "billing.view_accountbalance"
# Rows of a report's table on one screen: the rest on the next pages and in the downloads.
SCREEN_ROWS = 500
REPORTS = [
    ("office_reports:turnover", "Оборотно-сальдовая ведомость"),
    ("office_reports:debtors", "Должники"),
    ("office_reports:collections", "Собираемость"),
    ("office_reports:readings", "Передача показаний"),
]


def _months(organization) -> list:
    return list(
        Period.objects.filter(organization=organization)
        .order_by("month")
        .values_list("month", flat=True)
    )


def _default_last(organization, months):
    billed = (
        Period.objects.filter(organization=organization)
        .exclude(state=Period.State.OPEN)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return billed or (months[-1] if months else None)


def _page(request) -> int:
    """The page of a report's table on screen (from 1); anything else is the first."""
    value = request.GET.get("page", "")
    return max(int(value), 1) if value.isdigit() and len(value) < 7 else 1


def _answer(request, form, report, slug, organization, title):
    fmt = form.cleaned_data.get("format") if form.is_bound and form.is_valid() else ""
    if report is not None and fmt == "xlsx":
        return xlsx_response(report, slug)
    if report is not None and fmt == "csv":
        return csv_response(report, slug)
    status = 400 if form.is_bound and not form.is_valid() else 200
    rows, count, page = [], 0, 1
    if report is not None:
        if report.count is not None:  # the report is one page already
            rows, count = report.rows, report.count
            page = report.offset // SCREEN_ROWS + 1
        else:
            count = len(report.rows)
            page = min(_page(request), max((count + SCREEN_ROWS - 1) // SCREEN_ROWS, 1))
            rows = report.rows[(page - 1) * SCREEN_ROWS : page * SCREEN_ROWS]
    pages = max((count + SCREEN_ROWS - 1) // SCREEN_ROWS, 1)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = office_context(
        request,
        title=title,
        form=form,
        report=report,
        rows=rows,
        count=count,
        page=page,
        pages=pages,
        first_row=(page - 1) * SCREEN_ROWS + 1,
        last_row=(page - 1) * SCREEN_ROWS + len(rows),
        previous_page=page - 1 if page > 1 else None,
        next_page=page + 1 if page < pages else None,
        organization=organization,
        reports=REPORTS,
        query=query.urlencode(),
    )
    return TemplateResponse(request, "office/reports/report.html", context, status=status)


def _buildings(organization) -> list:
    return list(Building.objects.filter(organization=organization).order_by("street", "house"))


def _building_id(form) -> int | None:
    value = form.cleaned_data.get("building")
    return int(value) if value else None


def _range_form(request, form_class, organization, *, span: int = 0, **extra):
    months = _months(organization)
    data = request.GET.copy()
    last = _default_last(organization, months)
    if last is None:
        return form_class(None, months=months, **extra)  # no months yet: nothing to show
    data.setdefault("last", f"{last:%Y-%m}")
    first = max(add_months(last, -span), months[0])
    data.setdefault("first", f"{first:%Y-%m}")
    return form_class(data, months=months, **extra)


@require_GET
@office_view(PERMISSION)
def turnover(request) -> HttpResponse:
    organization = office_organization(request)
    form = _range_form(request, TurnoverForm, organization, buildings=_buildings(organization))
    report = None
    if form.is_valid():
        by = form.cleaned_data.get("by") or "account"
        on_screen = not form.cleaned_data.get("format") or form.cleaned_data["format"] == "html"
        # On screen the ведомость by account is read one page at a time (with its totals).
        paged = on_screen and by == "account"
        report = reports.turnover(
            organization.id,
            form.cleaned_data["first"],
            form.cleaned_data["last"],
            by,
            building_id=_building_id(form) if by in ("account", "building") else None,
            offset=(_page(request) - 1) * SCREEN_ROWS if paged else 0,
            limit=SCREEN_ROWS if paged else None,
        )
    title = "Оборотно-сальдовая ведомость"
    return _answer(request, form, report, "osv", organization, title)


@require_GET
@office_view(PERMISSION)
def debtors(request) -> HttpResponse:
    organization = office_organization(request)
    months = _months(organization)
    data = request.GET.copy()
    last = _default_last(organization, months)
    if last is not None:
        data.setdefault("month", f"{last:%Y-%m}")
    form = DebtorsForm(
        data if last is not None else None, months=months, buildings=_buildings(organization)
    )
    report = None
    if form.is_valid():
        report = reports.debtors(
            organization.id,
            form.cleaned_data["month"],
            min_debt=form.cleaned_data["min_debt"],
            building_id=_building_id(form),
        )
    return _answer(request, form, report, "debtors", organization, "Должники")


@require_GET
@office_view(PERMISSION)
def collections(request) -> HttpResponse:
    organization = office_organization(request)
    form = _range_form(request, ReportForm, organization, span=11)
    report = None
    if form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        if request.GET.get("by") == "bank":
            report = reports.collections_by_bank(organization.id, first, last)
        else:
            report = reports.collections(organization.id, first, last)
    return _answer(request, form, report, "collections", organization, "Собираемость")


@require_GET
@office_view(PERMISSION)
def readings(request) -> HttpResponse:
    organization = office_organization(request)
    form = _range_form(request, ReportForm, organization, span=2)
    report = None
    if form.is_valid():
        report = reports.readings(
            organization.id, form.cleaned_data["first"], form.cleaned_data["last"]
        )
    return _answer(request, form, report, "readings", organization, "Передача показаний")
