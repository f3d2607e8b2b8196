"""The team dashboard (supervisors and auditors): charts with their tables, and each
chart's figures as a CSV."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..access import Refused, can_view_dashboard
from ..followups import dashboard as figures

REFUSAL = "The dashboard is for supervisors and auditors."


@login_required
@require_GET
def dashboard(request):
    if not can_view_dashboard(request.user):
        raise Refused(REFUSAL)
    today = timezone.localdate()
    return render(
        request,
        "checklists/dashboard.html",
        {"charts": figures.charts(request.user, today), "today": today},
    )


@login_required
@require_GET
def chart_csv(request, chart: str):
    """One chart's rows. Counts only, nothing about a patient, so not audited as an
    export of records is."""
    if not can_view_dashboard(request.user):
        raise Refused(REFUSAL)
    if chart not in figures.CHARTS:
        raise Http404("No such chart.")
    found = figures.CHARTS[chart](request.user, timezone.localdate())
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{found.key}.csv"'},
    )
    writer = csv.writer(response)
    writer.writerow(found.columns)
    writer.writerows(found.rows)
    return response
