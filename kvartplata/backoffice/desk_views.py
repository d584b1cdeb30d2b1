"""The account desk: search, one page per account, and the operator's actions there."""

import secrets
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from kvartplata.backoffice import desk as desk_data
from kvartplata.backoffice.office import office_context, office_organization, office_view
from kvartplata.billing.models import Recalculation, Service
from kvartplata.billing.services import BillingError, recalculation_add
from kvartplata.lib.money import format_rub
from kvartplata.lib.periods import parse_period, period_label
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.receipts.models import Receipt
from kvartplata.receipts.services import ReceiptError, delivery_resend
from kvartplata.receipts.tasks import send_delivery
from kvartplata.registry.models import PersonalAccount
from kvartplata.users.audit import audit
from kvartplata.users.models import AccountLink

VIEW = "registry.view_personalaccount"
RECALCULATE = "billing.add_recalculation"
RESEND = "receipts.change_receiptdelivery"
TOKENS = "office_desk_tokens"


class RecalculationForm(forms.Form):
    source = forms.ChoiceField(
        label="Вид",
        choices=[
            (Recalculation.Source.STAFF, "Перерасчёт"),
            (Recalculation.Source.PRIVILEGE, "Льгота, субсидия (уменьшает начисление)"),
        ],
        initial=Recalculation.Source.STAFF,
        required=False,
        error_messages={"invalid_choice": "Выберите вид из списка."},
    )
    concerns_month = forms.ChoiceField(label="За месяц")
    service = forms.ChoiceField(label="Услуга", required=False)
    amount = forms.CharField(label="Сумма, ₽ (− уменьшает начисление)", max_length=20)
    reason = forms.CharField(label="Основание", max_length=255)
    confirm = forms.BooleanField(
        label="Провести перерасчёт на лицевой счёт",
        error_messages={"required": "Подтвердите перерасчёт: отметьте флажок."},
    )

    def __init__(self, *args, months, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concerns_month"].choices = [
            (f"{m:%Y-%m}", period_label(m)) for m in reversed(months)
        ]
        self.fields["concerns_month"].error_messages["invalid_choice"] = "Выберите месяц из списка."
        self.fields["service"].choices = [("", "— без услуги —")] + [
            (str(s.id), s.name) for s in services
        ]
        self.fields["service"].error_messages["invalid_choice"] = "Выберите услугу из списка."
        self.fields["reason"].error_messages["required"] = "Укажите основание перерасчёта."
        self.fields["amount"].error_messages["required"] = "Укажите сумму."

    def clean_source(self):
        return self.cleaned_data.get("source") or Recalculation.Source.STAFF

    def clean_concerns_month(self):
        return parse_period(self.cleaned_data["concerns_month"])

    def clean_amount(self):
        raw = self.cleaned_data["amount"].replace(" ", "").replace("\u00a0", "").replace(",", ".")
        raw = raw.replace("\u2212", "-")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError("Введите сумму в рублях, например −250,00.") from None
        if not value.is_finite() or abs(value) > Decimal("1000000"):
            raise forms.ValidationError("Сумма перерасчёта — не больше 1 000 000 ₽ по модулю.")
        if value.quantize(Decimal("0.01")) == 0:
            raise forms.ValidationError("Сумма перерасчёта не может быть нулевой.")
        return value


@require_GET
@office_view(VIEW)
def desk_search(request):
    organization = office_organization(request)
    query = request.GET.get("q", "").strip()[:100]
    found = desk_data.search(organization, query) if query else []
    if len(found) == 1:
        return redirect("office_desk:account", account_id=found[0].id)
    context = office_context(
        request, title="Лицевые счета", query=query, found=found, limit=desk_data.LIMIT
    )
    return TemplateResponse(request, "office/desk_search.html", context)


def _account(request, account_id: int) -> PersonalAccount:
    organization = office_organization(request)
    return get_object_or_404(
        PersonalAccount.objects.select_related("premises__building", "organization"),
        id=account_id,
        organization=organization,
    )


def _token(request) -> str:
    token = secrets.token_urlsafe(12)
    tokens = request.session.get(TOKENS, [])[-20:]
    request.session[TOKENS] = [*tokens, token]
    return token


def _spend(request, token: str) -> bool:
    tokens = request.session.get(TOKENS, [])
    if token not in tokens:
        return False
    tokens.remove(token)
    request.session[TOKENS] = tokens
    return True


@require_http_methods(["GET", "POST"])
@office_view(VIEW)
def desk_account(request, account_id: int):
    account = _account(request, account_id)
    month = None
    if request.GET.get("month"):
        try:
            month = parse_period(request.GET["month"])
        except ValueError as exc:
            messages.warning(request, str(exc))
    data = desk_data.account_desk(account, month)
    months = [p.month for p in data.periods if data.current and p.month <= data.current.month]
    services = list(
        Service.objects.filter(organization=account.organization).order_by("sort_order")
    )
    form = RecalculationForm(months=months, services=services)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm(RECALCULATE):
            messages.error(request, "Недостаточно прав для перерасчёта.")
            return redirect("office_desk:account", account_id=account.id)
        form = RecalculationForm(request.POST, months=months, services=services)
        if not _spend(request, request.POST.get("token", "")):
            messages.info(request, "Эта форма уже отправлена: перерасчёт не проведён повторно.")
            return redirect("office_desk:account", account_id=account.id)
        if form.is_valid():
            data_in = form.cleaned_data
            service = next((s for s in services if str(s.id) == data_in["service"]), None)
            try:
                recalculation = recalculation_add(
                    account=account,
                    concerns_month=data_in["concerns_month"],
                    amount=data_in["amount"],
                    reason=data_in["reason"],
                    service=service,
                    user=request.user,
                    source=data_in["source"],
                )
            except BillingError as exc:
                form.add_error(None, str(exc))
            else:
                audit(
                    "recalculation_added",
                    request=request,
                    user=request.user,
                    account=account.number,
                    amount=recalculation.amount,
                    recalculation=recalculation.id,
                )
                messages.success(
                    request,
                    f"Перерасчёт {format_rub(recalculation.amount)} за "
                    f"{period_label(recalculation.concerns_month)} проведён.",
                )
                return redirect("office_desk:account", account_id=account.id)
        status = 400
    context = office_context(
        request,
        title=f"Лицевой счёт {account.number}",
        account=account,
        desk=data,
        form=form,
        token=_token(request),
        can_recalculate=request.user.has_perm(RECALCULATE),
        can_resend=request.user.has_perm(RESEND),
        logins=[(link, desk_data.masked_email(link.user.email)) for link in data.logins],
        period_name=period_label(data.period.month) if data.period else "",
    )
    return TemplateResponse(request, "office/desk_account.html", context, status=status)


def _recipients(account: PersonalAccount) -> list[AccountLink]:
    """The residents' logins linked to the account that have an e-mail to send to."""
    return list(
        AccountLink.objects.filter(account=account, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("created_at", "id")
    )


def _masked(link: AccountLink) -> str:
    return desk_data.masked_email(link.user.email)


class ResendForm(forms.Form):
    recipients = forms.MultipleChoiceField(
        label="Кому",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Отметьте, кому отправить квитанцию.",
            "invalid_choice": "Выберите жителя из списка.",
        },
    )
    confirm = forms.BooleanField(
        label="Отправить квитанцию ещё раз",
        error_messages={"required": "Подтвердите отправку: отметьте флажок."},
    )

    def __init__(self, *args, links, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].choices = [
            (
                str(link.user_id),
                f"{link.user.get_username()} ({desk_data.masked_email(link.user.email)})",
            )
            for link in links
        ]
        self.fields["recipients"].initial = [str(link.user_id) for link in links]


@require_http_methods(["GET", "POST"])
@office_view(RESEND)
def desk_resend(request, account_id: int, receipt_id: int):
    """Send an issued receipt once more to the residents' e-mail (whatever became of the earlier
    deliveries): a confirmation first; one POST sends once (a form token, and the delivery's
    conditional UPDATE and lease in `receipts.services`)."""
    account = _account(request, account_id)
    receipt = get_object_or_404(Receipt, id=receipt_id, account=account)
    links = _recipients(account)
    form = ResendForm(links=links)
    status = 200
    if request.method == "POST":
        if not _spend(request, request.POST.get("token", "")):
            messages.info(request, "Эта форма уже отправлена: квитанция повторно не отправлена.")
            return redirect("office_desk:account", account_id=account.id)
        form = ResendForm(request.POST, links=links)
        if form.is_valid():
            chosen = [
                link for link in links if str(link.user_id) in form.cleaned_data["recipients"]
            ]
            for link in chosen:
                email = desk_data.masked_email(link.user.email)
                try:
                    delivery = delivery_resend(receipt=receipt, user=link.user)
                except ReceiptError as exc:
                    messages.warning(request, f"{email}: {exc}")
                    continue
                enqueue_on_commit(send_delivery, delivery.id)
                audit(
                    "receipt_resent",
                    request=request,
                    user=request.user,
                    account=account.number,
                    receipt=receipt.number,
                    delivery=delivery.id,
                )
                messages.success(
                    request,
                    f"Квитанция за {period_label(receipt.month)} поставлена в очередь "
                    f"на отправку: {email}.",
                )
            return redirect("office_desk:account", account_id=account.id)
        status = 400
    context = office_context(
        request,
        title=f"Отправить квитанцию № {receipt.number} ещё раз",
        account=account,
        receipt=receipt,
        month=period_label(receipt.month),
        links=links,
        form=form,
        token=_token(request),
    )
    return TemplateResponse(request, "office/desk_resend.html", context, status=status)
