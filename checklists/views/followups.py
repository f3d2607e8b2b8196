"""The follow-up worklist: the teams' cases due for review, soonest first."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..followups.worklist import follow_ups, grouped, team_clinicians


@login_required
@require_GET
def follow_up_list(request):
    today = timezone.localdate()
    clinicians = team_clinicians(request.user)
    chosen = _chosen_clinician(request.GET.get("clinician"), clinicians)
    cases = follow_ups(request.user, clinician_id=chosen)
    page = Paginator(cases, settings.CASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "checklists/follow_ups.html",
        {
            "page": page,
            "groups": grouped(page.object_list, today, dict(clinicians)),
            "clinicians": clinicians,
            "chosen": chosen,
            "today": today,
        },
    )


def _chosen_clinician(raw: str | None, clinicians: list[tuple[int, str]]) -> int | None:
    """The filter's clinician, when it is one of the user's teams' (anything else: all)."""
    known = {str(pk): pk for pk, _ in clinicians}
    return known.get(raw or "")
