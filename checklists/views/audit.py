"""The audit trail for auditors: filter, page through, export as CSV."""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import audit
from ..access import Refused, can_view_audit
from ..forms import AuditFilterForm
from ..models import AuditEvent

CSV_HEADER = ["when_utc", "user", "action", "object_type", "object_id", "case_id", "ip", "detail"]


class _Echo:
    def write(self, value):
        return value


def neutralise(cell: str) -> str:
    """Stop spreadsheets treating a cell as a formula (=, +, -, @, tab, carriage return)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _rows(events):
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
                    json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                )
            ]
        )


@login_required
@require_GET
def audit_trail(request):
    if not can_view_audit(request.user):
        raise Refused("Only auditors can see the audit trail.")
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else {}
    events = AuditEvent.objects.matching(filters).order_by("-at", "-id")
    printable = {k: str(v) for k, v in filters.items()}
    if request.GET.get("format") == "csv":
        audit.record(
            AuditEvent.Action.AUDIT_EXPORTED,
            user=request.user,
            ip=audit.client_ip(request),
            detail={"filters": printable},
        )
        response = StreamingHttpResponse(_rows(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "checklists/audit.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )
