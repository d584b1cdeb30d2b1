"""Staff page of the registry upload: a file is checked first (report), then loaded on confirm.

Included by the project URLconf among the office tools; docs/registry-format.md describes the
file. Staff see and confirm only their own organization's uploads; another's job is a 404.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from kvartplata.backoffice.exchange import files
from kvartplata.backoffice.exchange.jobs import (
    UploadRefused,
    import_job_confirm,
    import_job_upload,
    job_report,
)
from kvartplata.backoffice.exchange.load import default_switch_month
from kvartplata.backoffice.tasks import check_import_job, load_import_job
from kvartplata.lib.periods import parse_period, period_label
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.registry.models import ImportJob, Organization

app_name = "registry_office"
PROBLEMS_SHOWN = 500


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label="Файл реестра", help_text="Книга .xlsx или архив .zip с файлами CSV."
    )
    month = forms.CharField(
        label="Месяц перехода",
        help_text="Первый месяц, который начисляется здесь (ГГГГ-ММ); долги — за месяцы до него.",
        max_length=7,
    )

    def clean_month(self):
        try:
            return parse_period(self.cleaned_data["month"].strip())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


def _organization(request) -> Organization:
    if request.user.organization_id:
        return request.user.organization
    raise Http404("Сотрудник не привязан к организации")


def _page(request, organization, form, status=200):
    jobs = ImportJob.objects.filter(organization=organization)[:20]
    return render(
        request,
        "backoffice/registry_import.html",
        {
            "organization": organization,
            "form": form,
            "jobs": jobs,
            "max_mb": files.MAX_FILE_BYTES // 1024 // 1024,
        },
        status=status,
    )


@staff_member_required
def office(request):
    organization = _organization(request)
    month = default_switch_month(organization)
    form = RegistryUploadForm(initial={"month": f"{month:%Y-%m}" if month else ""})
    return _page(request, organization, form)


@staff_member_required
@require_POST
def upload(request):
    organization = _organization(request)
    form = RegistryUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, organization, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        job = import_job_upload(
            organization=organization,
            name=upload.name,
            chunks=upload.chunks(),
            size=upload.size,
            switch_month=form.cleaned_data["month"],
            user=request.user,
        )
    except UploadRefused as exc:
        form.add_error("file", str(exc))
        return _page(request, organization, form, status=400)
    enqueue_on_commit(check_import_job, job.pk)
    return redirect("registry_office:job", job.pk)


@staff_member_required
def job(request, job_id: int):
    organization = _organization(request)
    found = get_object_or_404(ImportJob, pk=job_id, organization=organization)
    report = job_report(found)
    running = found.status in (ImportJob.Status.CHECKING, ImportJob.Status.LOADING)
    return render(
        request,
        "backoffice/registry_import_job.html",
        {
            "organization": organization,
            "job": found,
            "report": report,
            "rows": report.rows(),
            "problems": report.problems[:PROBLEMS_SHOWN],
            "problems_total": len(report.problems),
            "problems_hidden": max(len(report.problems) - PROBLEMS_SHOWN, 0),
            "running": running,
            "month": period_label(found.switch_month),
        },
    )


@staff_member_required
@require_POST
def confirm(request, job_id: int):
    organization = _organization(request)
    found = get_object_or_404(ImportJob, pk=job_id, organization=organization)
    if import_job_confirm(job=found):
        enqueue_on_commit(load_import_job, found.pk)
        messages.success(request, "Загрузка поставлена в очередь.")
    else:
        messages.error(request, "Этот файл уже загружается или не прошёл проверку.")
    return redirect("registry_office:job", found.pk)


urlpatterns = [
    path("", office, name="office"),
    path("upload/", upload, name="upload"),
    path("<int:job_id>/", job, name="job"),
    path("<int:job_id>/confirm/", confirm, name="confirm"),
]
