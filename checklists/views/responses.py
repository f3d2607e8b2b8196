"""Screens for one checklist response: overview, a section, review, sign.

Every page that shows a checklist's answers writes CHECKLIST_VIEWED with the page's name
(the exports write their own EXPORT_* events); a save refused because someone saved
first writes SAVE_CONFLICT."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import lockout

from .. import audit
from ..access import (
    ResponseLocked,
    can_edit_response,
    get_response_for_user,
)
from ..authoring.diff import diff_versions
from ..cases import drafts, signing
from ..cases.readmodel import jurisdiction_choices, load_state, revision_changes
from ..cases.restart import NothingToRestart, restart_response_on_current
from ..context_processors import forget_follow_ups_count
from ..forms import RestartForm, ReturnForm, SectionForm, SignForm
from ..models import AuditEvent, Item, TemplateVersion


@login_required
@require_GET
def response_detail(request, response_id: int):
    response = get_response_for_user(request.user, response_id)
    state = load_state(response)
    _viewed(request, response, "response")
    next_section = next((s for s in state.sections if not s.complete), state.sections[0])
    return render(
        request,
        "checklists/response_detail.html",
        {
            "response": response,
            "state": state,
            "next_section": next_section,
            "chain": response.revision_chain(),
            "changes": revision_changes(state),
            "returns": response.amendment_requests.select_related("requested_by"),
            "return_form": ReturnForm(),
        },
    )


def _viewed(request, response, page: str, **detail) -> None:
    audit.record(
        AuditEvent.Action.CHECKLIST_VIEWED,
        user=request.user,
        obj=response,
        case_id=response.case_id,
        ip=audit.client_ip(request),
        detail={"page": page, **detail},
    )


def _conflict_recorded(request, stale, lock_version: int, during: str, section: str = ""):
    drafts.record_conflict(
        stale=stale,
        user=request.user,
        lock_version=lock_version,
        during=during,
        section=section,
        ip=audit.client_ip(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def section(request, response_id: int, section_key: str):
    response = get_response_for_user(request.user, response_id, for_edit=request.method == "POST")
    state = load_state(response, with_flags=request.method == "GET")
    current = state.section(section_key)
    if current is None:
        raise Http404("No such section.")
    if not can_edit_response(request.user, response):
        messages.info(request, _read_only_reason(response))
        return redirect("response_detail", response_id=response.pk)
    form = SectionForm(
        request.POST if request.method == "POST" else None,
        items=current.form_items,
        answers=state.answers,
        lots=state.team_lots() if current.has_kind("product_lot") else (),
        places=jurisdiction_choices(state.knowledge) if current.has_kind("jurisdiction") else (),
        initial={
            "lock_version": response.lock_version,
            **(state.prefilled(current.form_items) if request.method == "GET" else {}),
        },
    )
    if request.method == "POST" and form.is_valid():
        return _save(request, response, state, current, form)
    if request.method == "POST" and request.htmx:
        return _autosave_status(request, response, form=form)
    state.ensure_flags()
    _viewed(request, response, "section", section=current.section.key)
    return render(
        request,
        "checklists/section_form.html",
        {
            "response": response,
            "state": state,
            "current": current,
            "form": form,
            "form_rows": form.rows(state.citations, {i.key: i for i in state.items}),
            "section_reconciliations": state.reconciliations_for(current.items),
            # Filled from the case (its place, the birth year's age band) and not yet saved.
            "case_keys": set(state.from_case(current.form_items)),
            "suggested_keys": set(state.from_problems(current.form_items)),
            # Pre-filled from the last signed checklist and not yet confirmed by a save.
            "carried_keys": set(response.carried_keys),
            "carried_on": response.carried_from.signed_at if response.carried_keys else None,
        },
    )


def _save(request, response, state, current, form: SectionForm):
    """Save the section (an htmx POST is an autosave); a stale page is refused, written to
    the trail, and answered with the conflict page (or the autosave's notice)."""
    values = form.values()
    # Coming back from the conflict page: keep the saved answer where they chose it.
    for key in values:
        if request.POST.get(f"keep-{key}") == "saved":
            values[key] = state.answers.get(key)
    try:
        drafts.save_section(
            response=response,
            section=current.section,
            values=values,
            lock_version=form.cleaned_data["lock_version"],
            user=request.user,
            ip=audit.client_ip(request),
            state=state,
            confirm_carried=not request.htmx,  # only the clinician's own save confirms
        )
    except drafts.StaleResponse as stale:
        during = "autosave" if request.htmx else "section"
        lock = form.cleaned_data["lock_version"]
        _conflict_recorded(request, stale, lock, during, current.section.key)
        if request.htmx:  # an autosave from a stale page: say so, overwrite nothing
            return _autosave_status(request, response, stale=True)
        return _conflict(request, stale.response, current, values)
    if request.htmx:
        return _autosave_status(request, response, saved=state.saved_rows, section=current)
    return _after_save(request, response, state, current)


def _read_only_reason(response) -> str:
    if response.is_draft:
        return "Only clinicians of the team can change answers; they are shown read-only here."
    return f"This checklist is {response.get_status_display().lower()}; it is shown read-only."


def _autosave_status(request, response, *, saved=None, stale=False, form=None, section=None):
    """The autosave's answer (htmx): the saved-at time, plus out-of-band swaps of the new
    lock version (so the next autosave is not stale), the medication matches, the
    cautions, what the medicine list answers in the saved `section` (and the answers it
    gives to questions left open, for the page to tick) and, on the section asking for the
    place, its legal table. `saved`: the answer rows the save left (not read again).
    Status 200 in every case so htmx shows the message."""
    problem = ""
    if form is not None:
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context = {
        "response": response,
        "saved_at": timezone.now() if saved is not None else None,
        "stale": stale,
        "problem": problem,
    }
    if saved is not None:
        state = load_state(response, rows=saved)
        context |= {
            "state": state,
            "reconciliations": state.reconciliations_for(section.items),
            "prefill": json.dumps(state.from_medicines(section.form_items)),
            "legal_table": section.has_kind("jurisdiction"),
        }
    return render(request, "checklists/_autosave.html", context)


def _conflict(request, fresh, current, mine: dict):
    """Someone saved first: show their saved answers beside these, and let the clinician
    choose per question. Nothing of either has been overwritten."""
    saved = load_state(fresh, with_flags=False)
    items = {i.key: i for i in current.form_items}
    rows = [
        {
            "item": items[key],
            "mine": value,
            "saved": saved.answers.get(key),
            "by": saved.answer_rows[key].updated_by if key in saved.answer_rows else None,
        }
        for key, value in mine.items()
        if value != saved.answers.get(key)
    ]
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "lock_version", "next", "stay")
        and not name.startswith("keep-")
        for value in values
    ]
    return render(
        request,
        "checklists/conflict.html",
        {
            "response": fresh,
            "section": current.section,
            "rows": rows,
            "carried": carried,
        },
        status=409,
    )


def _after_save(request, response, state, current):
    if "stay" in request.POST:
        messages.success(request, f"{current.section.title}: draft saved.")
        return redirect("section", response_id=response.pk, section_key=current.section.key)
    later = [s for s in state.sections if s.number > current.number]
    if later:
        return redirect("section", response_id=response.pk, section_key=later[0].section.key)
    return redirect("review", response_id=response.pk)


@login_required
@require_GET
def review(request, response_id: int):
    response = get_response_for_user(request.user, response_id)
    if not response.is_draft:
        return redirect("response_detail", response_id=response.pk)
    state = load_state(response)
    form = SignForm(
        user=request.user,
        flags=state.flags,
        carried=state.carried_acknowledgements,
        initial={"lock_version": response.lock_version},
    )
    _viewed(request, response, "review")
    # An amendment's sign page shows what it changed (issue 19; one query, amendments only).
    changes = revision_changes(state)
    return render(
        request,
        "checklists/review.html",
        {"response": response, "state": state, "form": form, "changes": changes},
    )


@login_required
@require_POST
def sign(request, response_id: int):
    response = _response_to_sign(request, response_id)
    state = load_state(response)
    form = SignForm(
        request.POST, user=request.user, flags=state.flags, carried=state.carried_acknowledgements
    )
    try:
        if form.is_valid():
            _sign(request, response, form)
            forget_follow_ups_count(request)  # the case's follow-up date has changed
            messages.success(request, "Checklist signed. It is now read-only.")
            return redirect("response_detail", response_id=response.pk)
        _refuse_invalid(request, response, form)
    except signing.SignRefused as refusal:
        # A wrong password or code counts toward the login lockout; at the limit the
        # session ends here.
        if signed_out := lockout.count_refusal(request, refusal.field):
            return signed_out
        form.show_refusal(refusal)
    except drafts.StaleResponse as stale:
        _conflict_recorded(request, stale, form.cleaned_data["lock_version"], "sign")
        form.add_error(
            None,
            "Someone saved this checklist since you opened the review. "
            "Check the answers below and sign again.",
        )
    response.refresh_from_db(fields=["lock_version"])
    return render(
        request,
        "checklists/review.html",
        {"response": response, "state": state, "form": form, "changes": revision_changes(state)},
        status=400,
    )


def _refuse_invalid(request, response, form: SignForm) -> None:
    """A sign form with errors: a wrong password is said at once, with the form's other
    problems (raising SignerNotConfirmed); a serious caution left without its
    acknowledgement is a refused signing, audited as one."""
    ip = audit.client_ip(request)
    if "password" in form.cleaned_data:
        signing.confirm_password(
            response=response, user=request.user, password=form.cleaned_data["password"], ip=ip
        )
    if form.acknowledgement_missing():
        signing.record_refusal(
            response=response, user=request.user, reason="unacknowledged_caution", ip=ip
        )


def _response_to_sign(request, response_id: int):
    """The draft to sign; a signature refused because it is no longer a draft is audited
    before the 409 page (refusals.RefusalMiddleware) says so."""
    try:
        return get_response_for_user(request.user, response_id, for_edit=True)
    except ResponseLocked as locked:
        signing.record_refusal(
            response=locked.response,
            user=request.user,
            reason="locked",
            ip=audit.client_ip(request),
        )
        raise


def _sign(request, response, form: SignForm) -> None:
    signing.sign_response(
        response=response,
        user=request.user,
        password=form.cleaned_data["password"],
        code=form.cleaned_data.get("otp_token", ""),
        attestation=form.fields["attest"].label,
        lock_version=form.cleaned_data["lock_version"],
        acknowledgements=form.acknowledgements(),
        ip=audit.client_ip(request),
    )


@login_required
@require_GET
def version_changes(request, response_id: int):
    """What changed between the version a draft is answered on and the current one."""
    response = get_response_for_user(request.user, response_id)
    current = TemplateVersion.objects.filter(pk=response.current_version_id).first()
    diff = None
    if current is not None and current.pk != response.version_id:
        diff = diff_versions(response.version, current)
    _viewed(request, response, "changes")
    return render(
        request,
        "checklists/version_changes.html",
        {"response": response, "current": current, "diff": diff},
    )


@login_required
@require_POST
def restart(request, response_id: int):
    response = get_response_for_user(request.user, response_id, for_edit=True)
    form = RestartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reload the checklist and try again.")
        return redirect("response_detail", response_id=response.pk)
    try:
        result = restart_response_on_current(
            response=response,
            user=request.user,
            lock_version=form.cleaned_data["lock_version"],
            ip=audit.client_ip(request),
        )
    except NothingToRestart as refusal:
        messages.info(request, str(refusal))
        return redirect("response_detail", response_id=response.pk)
    except drafts.StaleResponse as stale:
        _conflict_recorded(request, stale, form.cleaned_data["lock_version"], "restart")
        messages.error(
            request, "Someone saved this checklist since you opened it. Look again, then restart."
        )
        return redirect("response_detail", response_id=response.pk)
    new = result.response
    text = (
        f"Restarted on version {new.version.number}: {len(result.carried)} answer(s) carried over."
    )
    if result.dropped:
        prompts = Item.objects.filter(version_id=response.version_id, key__in=result.dropped)
        text += " Answer again: " + "; ".join(prompts.values_list("prompt", flat=True))
    messages.success(request, text)
    return redirect("response_detail", response_id=new.pk)
