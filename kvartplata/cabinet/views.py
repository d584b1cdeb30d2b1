"""Views of the resident's cabinet: linking, the switcher and the pages of an account."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kvartplata.billing.models import Unit
from kvartplata.cabinet import charts
from kvartplata.cabinet.access import (
    SECTION_NAMES,
    SESSION_KEY,
    linked_account,
    page_context,
    request_links,
    user_links,
)
from kvartplata.cabinet.conditional import (
    card_material,
    charges_material,
    request_bill_change,
    request_periods,
    request_services,
    revalidated,
)
from kvartplata.cabinet.forms import LinkForm, SwitchForm, month_choices, parse_month
from kvartplata.cabinet.services import LinkError, account_link
from kvartplata.lib.periods import add_months, period_label, period_label_genitive
from kvartplata.statements import selectors

MOVEMENT_DEFAULT_MONTHS = 12
CHART_MONTHS = 12


@login_required
@require_GET
def home(request):
    """The remembered account, else the first linked one, else the form to link one."""
    links = user_links(request.user)
    if not links:
        return redirect("cabinet:link")
    remembered = request.session.get(SESSION_KEY)
    chosen = next((link for link in links if link.account_id == remembered), links[0])
    return redirect("cabinet:account", account_id=chosen.account_id)


@login_required
@require_http_methods(["GET", "POST"])
def link(request):
    if request.method == "POST":
        form = LinkForm(request.POST)
        if form.is_valid():
            try:
                new = account_link(
                    user=request.user,
                    number=form.cleaned_data["number"],
                    proof=form.cleaned_data["proof"],
                    request=request,
                )
            except LinkError as exc:
                form.add_error(None, str(exc))
            else:
                request.session[SESSION_KEY] = new.account_id
                messages.success(
                    request, f"Лицевой счёт {new.account.number} привязан к вашему кабинету."
                )
                return redirect("cabinet:account", account_id=new.account_id)
    else:
        form = LinkForm()
    return render(request, "cabinet/link.html", {"form": form, "links": user_links(request.user)})


@login_required
@require_POST
def switch(request):
    """The account switcher: a plain form, so it works without JavaScript."""
    links = user_links(request.user)
    form = SwitchForm(request.POST, choices=[(link.account_id, "") for link in links])
    if not form.is_valid():
        messages.error(request, "Выберите лицевой счёт из списка.")
        return redirect("cabinet:home")
    account_id = form.cleaned_data["account"]
    request.session[SESSION_KEY] = account_id
    section = form.cleaned_data.get("section") or ""
    name = section if section in SECTION_NAMES else "cabinet:account"
    return redirect(reverse(name, kwargs={"account_id": account_id}))


def _page(request, account_id: int, build) -> HttpResponse:
    """An account page: the access check, then ``build(request, account, links)``, rendered."""
    acc = linked_account(request, account_id)
    template, context = build(request, acc, request_links(request))
    return render(request, template, context)


@login_required
@require_GET
@revalidated("account", material=card_material)
def account(request, account_id: int):
    return _page(request, account_id, _account_page)


def _account_page(request, acc, links):
    periods = request_periods(request, acc.organization_id)
    state = selectors.account_state(acc, periods, today=timezone.localdate())
    # Why the last issued month's bill differs from the month before, as its receipt froze it.
    change = request_bill_change(request, acc, selectors.last_issued_of(periods))
    return "cabinet/account.html", page_context(
        request, acc, "cabinet:account", links=links, state=state, bill_change=change
    )


@login_required
@require_GET
def services(request, account_id: int):
    acc = linked_account(request, account_id)
    today = timezone.localdate()
    rows = selectors.account_services(acc, today=today)
    return render(
        request,
        "cabinet/services.html",
        page_context(request, acc, "cabinet:services", rows=rows, today=today),
    )


@login_required
@require_GET
@revalidated("charges", "month", material=charges_material)
def charges(request, account_id: int):
    return _page(request, account_id, _charges_page)


def _charges_page(request, acc, links):
    periods = request_periods(request, acc.organization_id)
    by_month = {p.month: p for p in periods}
    month, error = parse_month(request.GET.get("month"), set(by_month))
    if error:
        messages.warning(request, error)
    default = selectors.last_issued_of(periods) or selectors.current_of(periods)
    period = by_month.get(month) if month else default
    # A month not issued yet shows a notice, never what a run has computed so far.
    issued = bool(period and selectors.is_issued(period))
    services = request_services(request, acc.organization_id)
    data = selectors.month_charges(acc, period, services) if issued else None
    return "cabinet/charges.html", page_context(
        request,
        acc,
        "cabinet:charges",
        links=links,
        period=period,
        period_name=period_label(period.month) if period else "",
        issued=issued,
        data=data,
        bill_change=request_bill_change(request, acc, period) if issued else None,
        choices=month_choices(periods),
        chosen=f"{period.month:%Y-%m}" if period else "",
    )


@login_required
@require_GET
@revalidated("payments", "from", "to")
def payments(request, account_id: int):
    return _page(request, account_id, _payments_page)


def _payments_page(request, acc, links):
    periods = request_periods(request, acc.organization_id)
    months = {p.month for p in periods}
    movement = None
    first = last = None
    if periods:
        last = periods[-1].month
        first = max(add_months(last, -(MOVEMENT_DEFAULT_MONTHS - 1)), periods[0].month)
        asked_first, error_first = parse_month(request.GET.get("from"), months)
        asked_last, error_last = parse_month(request.GET.get("to"), months)
        error = error_first or error_last
        if not error and asked_first and asked_last and asked_first > asked_last:
            error = "Начало периода позже его конца: показаны последние 12 месяцев."
        elif not error:
            first = asked_first or first
            last = asked_last or last
            if first > last:
                first = last
        if error:
            messages.warning(request, error)
        movement = selectors.money_movement(acc, periods, first, last)
    return "cabinet/payments.html", page_context(
        request,
        acc,
        "cabinet:payments",
        links=links,
        movement=movement,
        choices=month_choices(periods),
        first=f"{first:%Y-%m}" if first else "",
        last=f"{last:%Y-%m}" if last else "",
        first_name=period_label(first) if first else "",
        last_name=period_label(last) if last else "",
    )


def _chart_range(periods) -> list:
    """The issued months of the last year: charts never show a month not closed yet."""
    issued = selectors.last_issued_of(periods)
    if issued is None:
        return []
    first = add_months(issued.month, -(CHART_MONTHS - 1))
    return [p for p in periods if first <= p.month <= issued.month]


def _units(series) -> list[tuple[str, str]]:
    labels = dict(Unit.choices)
    seen = []
    for s in series:
        if s.unit not in seen:
            seen.append(s.unit)
    return [(u, str(labels.get(u, u))) for u in seen]


@login_required
@require_GET
def charts_page(request, account_id: int):
    acc = linked_account(request, account_id)
    periods = _chart_range(selectors.organization_periods(acc.organization_id))
    movement = series = None
    if periods:
        first, last = periods[0].month, periods[-1].month
        movement = selectors.money_movement(acc, periods, first, last, with_payments=False)
        series = selectors.consumption_by_month(acc, first, last)
    return render(
        request,
        "cabinet/charts.html",
        page_context(
            request,
            acc,
            "cabinet:charts",
            movement=movement,
            series=series or [],
            units=_units(series or []),
            months=[p.month for p in periods],
            first_name=period_label_genitive(periods[0].month) if periods else "",
            last_name=period_label(periods[-1].month) if periods else "",
        ),
    )


def _svg_response(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = charts.SVG_CSP
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def chart_charges(request, account_id: int):
    acc = linked_account(request, account_id)
    periods = _chart_range(selectors.organization_periods(acc.organization_id))
    months, charged, paid = [], [], []
    if periods:
        movement = selectors.money_movement(
            acc, periods, periods[0].month, periods[-1].month, with_payments=False
        )
        for m in movement.months:
            months.append(m.month)
            charged.append(m.charged)
            paid.append(m.payments)
    return _svg_response(charts.charges_chart(months, charged, paid))


@login_required
@require_GET
def chart_consumption(request, account_id: int, unit: str):
    acc = linked_account(request, account_id)
    labels = dict(Unit.choices)
    if unit not in labels:
        raise Http404("Нет такой единицы измерения.")
    periods = _chart_range(selectors.organization_periods(acc.organization_id))
    months = [p.month for p in periods]
    series = []
    if periods:
        series = [
            (s.name, s.values)
            for s in selectors.consumption_by_month(acc, months[0], months[-1])
            if s.unit == unit
        ]
    return _svg_response(charts.consumption_chart(months, series, str(labels[unit])))
