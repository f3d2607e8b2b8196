"""The audit trail for auditors: filter, page through, export as CSV.

Both list `AuditEvent.objects.visible_to(user)` (their teams' events) and show an event's
free text only where `access.can_read_event_text` allows; each view and export of the
trail is itself written to it, with the filters used."""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .. import audit
from ..access import Refused, can_read_event_text, can_view_audit
from ..forms import AuditFilterForm, CaseSearchForm
from ..models import AuditEvent, PatientCase
from . import reference_search

# The clinic reference searched for, as on the case list: posted and kept in the session,
# never in a URL or an access log.
REFERENCE_SESSION_KEY = "audit_case_reference"

CSV_HEADER = ["when_utc", "user", "action", "object_type", "object_id", "case_id", "ip", "detail"]


class _Echo:
    def write(self, value):
        return value


def neutralise(cell: str) -> str:
    """Stop spreadsheets treating a cell as a formula (=, +, -, @, tab, carriage return)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _shown_detail(user, event) -> dict:
    return event.detail_shown(with_text=can_read_event_text(user, event))


def _rows(events, user):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                neutralise(str(v))
                for v in (
                    event.at.isoformat(),
                    event.username,
                    event.action,
                    event.object_type,
                    event.object_id,
                    event.case_id or "",
                    event.ip_address or "",
                    json.dumps(_shown_detail(user, event), ensure_ascii=False, sort_keys=True),
                )
            ]
        )


@login_required
@require_http_methods(["GET", "POST"])
def audit_trail(request):
    if not can_view_audit(request.user):
        raise Refused("Only auditors can see the audit trail.")
    if request.method == "POST":  # the reference search: kept, then the page by GET
        return reference_search.keep(request, REFERENCE_SESSION_KEY)
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else {}
    events = AuditEvent.objects.visible_to(request.user).in_trail().matching(filters)
    printable = {k: str(v) for k, v in filters.items()}
    if reference := reference_search.kept(request, REFERENCE_SESSION_KEY):
        cases = PatientCase.objects.visible_to(request.user).with_reference(reference)
        events = events.filter(case_id__in=cases.values("pk"))
        # The trail of the trail says a reference was searched, not which (no patient
        # detail beyond ids): the cases it matched can be found from the same search.
        printable["case_reference"] = "searched"
    events = events.order_by("-at", "-id")
    if request.GET.get("format") == "csv":
        _record(request, AuditEvent.Action.AUDIT_EXPORTED, {"filters": printable})
        response = StreamingHttpResponse(
            _rows(events, request.user), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # Read before the view is written, so the page shows the trail as it was when opened.
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.shown_detail = AuditEvent.detail_words(_shown_detail(request.user, event))
    _record(request, AuditEvent.Action.AUDIT_VIEWED, {"filters": printable, "page": page.number})
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "checklists/audit.html",
        {
            "form": form,
            "search": CaseSearchForm(initial={"q": reference}),
            "reference": reference,
            "page": page,
            "query": query.urlencode(),
        },
    )


def _record(request, action: str, detail: dict) -> None:
    audit.record(action, user=request.user, ip=audit.client_ip(request), detail=detail)
