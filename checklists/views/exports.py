"""Exports: one response as a text note, print view, PDF or FHIR bundle; many as CSV.

Every export is audited. Per-response exports need only sight of the case (the guarded
lookup); the bulk CSV needs the export permission and covers the user's teams' cases.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from .. import audit
from ..access import Refused, can_export_responses, get_response_for_user
from ..cases.readmodel import load_state
from ..exports import csv as csv_export
from ..exports.document import CaseNote, build_note
from ..exports.fhir import render_fhir_json
from ..exports.pdf import render_pdf, render_print_html
from ..exports.text import render_text
from ..forms import ExportFilterForm
from ..models import AuditEvent, ChecklistResponse


def _note(request, response_id: int, action: str) -> CaseNote:
    response = get_response_for_user(request.user, response_id)
    note = build_note(load_state(response))
    audit.record(
        action,
        user=request.user,
        obj=response,
        case_id=response.case_id,
        ip=audit.client_ip(request),
        detail={"status": response.status, "revision": response.revision},
    )
    return note


def _file(content, content_type: str, note: CaseNote, name: str, *, inline: bool = True):
    # The file name carries the checklist id only, never the patient's case reference.
    disposition = "inline" if inline else "attachment"
    filename = f"checklist-{note.response.pk}-{name}"
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


@login_required
@require_GET
def note_txt(request, response_id: int):
    note = _note(request, response_id, AuditEvent.Action.EXPORT_TEXT_NOTE)
    return _file(render_text(note), "text/plain; charset=utf-8", note, "note.txt")


@login_required
@require_GET
def print_view(request, response_id: int):
    note = _note(request, response_id, AuditEvent.Action.EXPORT_PRINT)
    return HttpResponse(render_print_html(note))


@login_required
@require_GET
def note_pdf(request, response_id: int):
    note = _note(request, response_id, AuditEvent.Action.EXPORT_PDF)
    return _file(render_pdf(note), "application/pdf", note, "note.pdf", inline=False)


@login_required
@require_GET
def fhir_json(request, response_id: int):
    note = _note(request, response_id, AuditEvent.Action.EXPORT_FHIR)
    return _file(render_fhir_json(note), "application/fhir+json; charset=utf-8", note, "fhir.json")


@login_required
@require_GET
def responses_csv(request):
    if not can_export_responses(request.user):
        raise Refused("Bulk export needs the export permission (supervisors and auditors).")
    form = ExportFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponseBadRequest(f"Invalid filters. {errors}", content_type="text/plain")
    filters, long = form.filters(), form.cleaned_data["format"] == "long"
    responses = ChecklistResponse.objects.visible_to(request.user)
    audit.record(
        AuditEvent.Action.EXPORT_CSV,
        user=request.user,
        ip=audit.client_ip(request),
        detail={"format": "long" if long else "wide", "filters": filters.as_dict()},
    )
    return StreamingHttpResponse(
        csv_export.export_csv(csv_export.apply_filters(responses, filters), long=long),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="responses.csv"'},
    )
