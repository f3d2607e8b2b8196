"""Screens for cases: the list, a new case, one case."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import audit
from ..access import (
    NotClinician,
    can_export_responses,
    can_start_checklist,
    can_write_clinical,
    get_case_for_user,
    teams_for_user,
)
from ..cases.cases import create_case, update_case
from ..cases.drafts import DEFAULT_TEMPLATE_SLUG, NoPublishedVersion, start_response
from ..cases.followup import FOLLOW_UP_SLUG
from ..followups.timeline import timeline
from ..forms import CaseEditForm, CaseFilterForm, CaseForm, CaseSearchForm, ExportFilterForm
from ..models import AuditEvent, PatientCase
from . import reference_search

SEARCH_SESSION_KEY = "case_search"
# What the case page and the worklist may start (POST `template`; none: the intake).
STARTABLE_TEMPLATES = {DEFAULT_TEMPLATE_SLUG: "Checklist", FOLLOW_UP_SLUG: "Follow-up review"}


@login_required
@require_http_methods(["GET", "POST"])
def case_list(request):
    # The search text is a clinic reference: it travels by POST and lives in the session,
    # never in a URL or an access log.
    if request.method == "POST":
        return reference_search.keep(request, SEARCH_SESSION_KEY)
    query = reference_search.kept(request, SEARCH_SESSION_KEY)
    search = CaseSearchForm(initial={"q": query})
    filters = CaseFilterForm(request.GET)
    status = filters.status_or_all()
    cases = (
        PatientCase.objects.visible_to(request.user).with_checklist_state().select_related("team")
    )
    cases = cases.with_status(status, timezone.localdate(), request.user).with_reference(query)
    page = Paginator(cases, settings.CASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "checklists/case_list.html",
        {
            "page": page,
            "search": search,
            "filters": filters,
            "status": status,
            "query": query,
            "today": timezone.localdate(),
            # The teams query runs only if the template shows the export form.
            "export_form": ExportFilterForm() if can_export_responses(request.user) else None,
            "export_teams": teams_for_user(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    if not can_write_clinical(request.user):
        raise NotClinician()
    teams = teams_for_user(request.user)
    form = CaseForm(
        request.POST if request.method == "POST" else None,
        teams=teams,
        initial={"team": teams.first()},
    )
    if request.method == "POST" and teams and form.is_valid():
        case = create_case(user=request.user, ip=audit.client_ip(request), **form.cleaned_data)
        # The place in words, so a "DE" meant for Germany shows as Delaware at once.
        place = f" for a patient in {form.place_label()}" if case.jurisdiction else ""
        messages.success(request, f"Case {case.reference} created{place}.")
        return redirect("case_detail", case_id=case.pk)
    return render(request, "checklists/case_form.html", {"form": form, "teams": teams})


@login_required
@require_GET
def case_detail(request, case_id: int):
    case = get_case_for_user(request.user, case_id)
    responses = list(case.responses.select_related("version__template", "started_by", "signed_by"))
    audit.record(
        AuditEvent.Action.CASE_VIEWED,
        user=request.user,
        obj=case,
        case_id=case.pk,
        ip=audit.client_ip(request),
    )
    return render(
        request,
        "checklists/case_detail.html",
        {
            "case": case,
            "responses": responses,
            "timeline": timeline(case, responses),
            "has_signed": any(r.signed_at for r in responses),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def checklist_start(request, case_id: int):
    case = get_case_for_user(request.user, case_id)
    if not can_start_checklist(request.user, case):
        raise NotClinician("Only clinicians can start a checklist.")
    slug = request.POST.get("template") or DEFAULT_TEMPLATE_SLUG
    if slug not in STARTABLE_TEMPLATES:
        return HttpResponseBadRequest("Unknown checklist.", content_type="text/plain")
    try:
        response = start_response(
            case=case, user=request.user, ip=audit.client_ip(request), template_slug=slug
        )
    except NoPublishedVersion as error:
        messages.error(request, str(error))
        return redirect("case_detail", case_id=case.pk)
    messages.success(
        request, f"{STARTABLE_TEMPLATES[slug]} started. Each section is saved when you continue."
    )
    first = response.version.sections.order_by("position").first()
    return redirect("section", response_id=response.pk, section_key=first.key)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request, case_id: int):
    case = get_case_for_user(request.user, case_id, for_edit=True)
    form = CaseEditForm(
        request.POST if request.method == "POST" else None,
        instance=PatientCase.objects.get(pk=case.pk),
    )
    if request.method == "POST" and form.is_valid():
        changed = update_case(
            case=case, user=request.user, ip=audit.client_ip(request), **form.cleaned_data
        )
        messages.success(request, "Case updated." if changed else "Nothing changed.")
        return redirect("case_detail", case_id=case.pk)
    return render(request, "checklists/case_edit.html", {"case": case, "form": form})
