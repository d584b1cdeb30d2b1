"""The month page: one page per period with its steps — readings, run, review, close."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kvartplata.backoffice import month as month_data
from kvartplata.backoffice.office import office_context, office_organization, office_view
from kvartplata.backoffice.services import month_close, month_run_start
from kvartplata.billing.services import BillingError, current_period
from kvartplata.billing.tasks import run_billing, run_billing_after
from kvartplata.lib.periods import period_label
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.registry.models import Period

VIEW = "registry.view_period"
ACT = "registry.change_period"


def _period(request, period_id: int | None) -> Period:
    organization = office_organization(request)
    if period_id is None:
        period = current_period(organization) or (
            Period.objects.filter(organization=organization).order_by("-month").first()
        )
        if period is None:
            raise Http404("Расчётных периодов ещё нет.")
        return period
    return get_object_or_404(
        Period.objects.select_related("organization"), id=period_id, organization=organization
    )


def _share(request) -> Decimal:
    raw = (request.GET.get("share") or "").replace(",", ".").strip()
    try:
        value = Decimal(raw) if raw else month_data.DEFAULT_SHARE
    except InvalidOperation:
        messages.warning(request, "Доля изменения — число процентов, например 30.")
        return month_data.DEFAULT_SHARE
    if not value.is_finite() or not 0 < value <= 1000:
        messages.warning(request, "Доля изменения — от 0 до 1000 %.")
        return month_data.DEFAULT_SHARE
    return value


@require_GET
@office_view(VIEW)
def month_page(request, period_id: int | None = None):
    period = _period(request, period_id)
    run = month_data.last_run(period)
    reviewed = period.state != Period.State.OPEN
    context = office_context(
        request,
        title=f"Расчётный месяц: {period_label(period.month)}",
        period=period,
        period_name=period_label(period.month),
        readings=month_data.readings_counts(period),
        run=run,
        review=month_data.review(period, share=_share(request)) if reviewed else None,
        periods=Period.objects.filter(organization=period.organization).order_by("-month")[:24],
        can_act=request.user.has_perm(ACT),
        today=timezone.localdate(),
    )
    return TemplateResponse(request, "office/month.html", context)


@require_POST
@office_view(ACT)
def month_run(request, period_id: int):
    period = _period(request, period_id)
    seen = request.POST.get("seen_run") or ""
    try:
        run = month_run_start(
            period=period,
            user=request.user,
            seen_run_id=int(seen) if seen.isdigit() else None,
            request=request,
        )
    except BillingError as exc:
        run_billing_after(exc)
        messages.error(request, str(exc))
    else:
        enqueue_on_commit(run_billing, run.id)
        messages.success(request, "Начисление запущено. Обновите страницу, чтобы увидеть его ход.")
    return redirect("office_month:period", period_id=period.id)


@require_http_methods(["GET", "POST"])
@office_view(ACT)
def month_close_page(request, period_id: int):
    """Shows the figures to be issued and asks for confirmation; closes on POST."""
    period = _period(request, period_id)
    if period.state == Period.State.CLOSED:
        messages.info(request, "Период уже закрыт.")
        return redirect("office_month:period", period_id=period.id)
    today = timezone.localdate()
    window_end = month_data.readings_window_end(period)
    error = ""
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        if request.POST.get("confirm") != "yes":
            error = "Подтвердите закрытие периода: отметьте флажок."
        else:
            try:
                month_close(
                    period_id=period.id,
                    organization=period.organization,
                    user=request.user,
                    reason=reason,
                    today=today,
                    request=request,
                )
            except BillingError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    f"Период {period_label(period.month)} закрыт, квитанции выпущены; "
                    "открыт следующий месяц.",
                )
                return redirect("office_month:period", period_id=period.id)
    context = office_context(
        request,
        title=f"Закрытие периода: {period_label(period.month)}",
        period=period,
        period_name=period_label(period.month),
        figures=month_data.to_issue(period) if period.state == Period.State.BILLED else None,
        early=today <= window_end,
        window_end=window_end,
        error=error,
        reason=reason,
    )
    status = 400 if error else 200
    return TemplateResponse(request, "office/month_close.html", context, status=status)
