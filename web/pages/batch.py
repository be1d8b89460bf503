"""Pages for batch scoring of a file: upload, the job's progress and its downloads; and a Model admin's
re-score of every stored application, a job of the same kind.

Thin views: read the request, call one service or selector, render. Analysts (and Model admins,
who are analysts too) only; the re-score, Model admins only.
"""

from __future__ import annotations

import os

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nplsite.csv_export import regional_csv_chunks, write_csv
from nplsite.roles import analyst_required, is_model_admin, model_admin_required
from scoring.batch import DECIMAL_COLUMNS, template_rows
from scoring.batch_jobs import (
    RescoreError,
    batch_job_status,
    get_batch_job,
    inline_max_rows,
    recent_batch_jobs,
    report_file,
    results_file,
    retry_batch_job,
    stored_application_count,
    submit_batch_file,
    submit_rescore,
)
from training.selectors import get_active_model_version
from web.forms.scoring import BatchUploadForm, upload_max_bytes
from web.page_selectors.scoring import batch_summary, csv_page, with_stored_predictions

# Multipart overhead allowed on top of the file size limit when checking Content-Length.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes the size limit (also when no Content-Length was sent)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _batch_page(request, form, status=200, upload_error=""):
    context = {
        "form": form,
        "upload_error": upload_error,
        "jobs": recent_batch_jobs(request.user),
        "limit": upload_max_bytes(),
        "inline_max_rows": inline_max_rows(),
        "active_model": get_active_model_version(),
        # The re-score form is a Model admin's (the view below checks it again).
        "stored_applications": stored_application_count() if is_model_admin(request.user) else None,
    }
    return render(request, "scoring/batch.html", context, status=status)


@csrf_exempt  # checked by csrf_protect below, after the size-limiting upload handler is installed
@analyst_required
@require_http_methods(["GET", "POST"])
def batch(request):
    """Upload a loan file to score; small files are scored at once, large ones in the worker."""
    if request.method == "GET":
        return _batch_page(request, BatchUploadForm())
    limit = upload_max_bytes()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + UPLOAD_OVERHEAD_BYTES:
        return _too_large(request, limit)
    handler = SizeLimitedUploadHandler(request, limit)
    request.upload_handlers.insert(0, handler)
    return _batch_upload(request, handler, limit)


def _too_large(request, limit):
    message = gettext("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)}
    return _batch_page(request, BatchUploadForm(), status=413, upload_error=message)


@csrf_protect
def _batch_upload(request, handler, limit):
    form = BatchUploadForm(request.POST, request.FILES)
    if handler.exceeded:
        return _too_large(request, limit)
    if not form.is_valid():
        return _batch_page(request, form, status=400)
    job = submit_batch_file(form.cleaned_data["file"], user=request.user)
    return redirect("batch:job", job_id=job.id)


@model_admin_required
@require_POST
def batch_rescore(request):
    """Re-score every stored application (a Model admin's, after a policy or model change): a batch job
    like an upload's; to its page, or back with the reason when it cannot start."""
    try:
        job = submit_rescore(request.user)
    except RescoreError as exc:
        messages.error(request, str(exc))
        return redirect("batch:index")
    return redirect("batch:job", job_id=job.id)


def _job_or_404(request, job_id):
    job = get_batch_job(job_id, request.user)
    if job is None:
        raise Http404(gettext("No such batch job."))
    return job


@analyst_required
@require_GET
def batch_job(request, job_id: str):
    """A batch job: progress while it runs, then the summary, every result and every row error page by page,
    and the downloads."""
    job = _job_or_404(request, job_id)
    context = {"job": job}
    if job.has_output:
        scored = job.summary.get("applications_scored", 0)
        context["summary"] = batch_summary(job.summary.get("statistics", {}), scored)
        context["results"] = results = csv_page(results_file(job), scored, request.GET.get("page"))
        with_stored_predictions(results.object_list)
    if job.has_report:
        report = report_file(job)
        context["errors"] = csv_page(report, _report_lines(report), request.GET.get("errors_page"))
    return render(request, "scoring/batch_job.html", context)


def _report_lines(path) -> int:
    with open(path, "rb") as handle:
        return max(sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1, 0)


@analyst_required
@require_POST
def batch_job_retry(request, job_id: str):
    """ "Start again" on a failed job: a new job on the same file that scores only what is missing."""
    job = _job_or_404(request, job_id)
    try:
        again = retry_batch_job(job, user=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("batch:job", job_id=job.id)
    return redirect("batch:job", job_id=again.id)


@never_cache
@analyst_required
@require_GET
def batch_job_status_json(request, job_id: str):
    job = _job_or_404(request, job_id)
    payload = batch_job_status(job)
    payload["status_label"] = {
        "queued": gettext("Waiting for a worker"),
        "running": gettext("Scoring"),
        "succeeded": gettext("Done"),
        "failed": gettext("Failed"),
    }.get(job.status, job.status)
    return JsonResponse(payload)


def _download_name(job, suffix: str) -> str:
    """``<uploaded file's stem>-<suffix>.csv``: the downloads are named after the file the user uploaded."""
    stem = os.path.splitext(job.original_name)[0] or "batch"
    return f"{stem}-{suffix}.csv"


def _download(path, file_name):
    if not path.is_file():
        raise Http404(gettext("This file does not exist."))
    return FileResponse(open(path, "rb"), as_attachment=True, filename=file_name, content_type="text/csv")


@analyst_required
@require_GET
def batch_job_download(request, job_id: str):
    job = _job_or_404(request, job_id)
    if not job.has_output:
        raise Http404(gettext("This job has no results."))
    return _download(results_file(job), _download_name(job, "scored"))


@analyst_required
@require_GET
def batch_job_download_excel(request, job_id: str):
    """The results for a spreadsheet set to Indonesian (or another language that writes decimal commas):
    semicolons between cells, decimal commas, a byte-order mark so that UTF-8 is recognised."""
    job = _job_or_404(request, job_id)
    if not job.has_output:
        raise Http404(gettext("This job has no results."))
    response = StreamingHttpResponse(
        regional_csv_chunks(results_file(job), decimal_columns=DECIMAL_COLUMNS), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, _download_name(job, "scored-excel"))
    return response


@analyst_required
@require_GET
def batch_job_errors(request, job_id: str):
    job = _job_or_404(request, job_id)
    if not job.has_report:
        raise Http404(gettext("This job has no row errors."))
    return _download(report_file(job), _download_name(job, "errors"))


@analyst_required
@require_GET
def batch_template(request):
    """A file to fill in: the columns a batch needs and one example row."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="batch-template.csv"'
    header, rows = template_rows()
    write_csv(response, rows, header)
    return response
