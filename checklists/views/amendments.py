"""Screens for correcting a signed checklist: the short amendment form (reached from the
"Amend" button at the top of a signed checklist, issue 19) and a supervisor's return.

The write functions (cases/signing.py) refuse what cannot be amended; the views refuse
the role and say why."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import audit
from ..access import (
    NotClinician,
    Refused,
    can_amend,
    can_return_for_amendment,
    can_write_clinical,
    get_response_for_user,
)
from ..cases import signing
from ..forms import AmendForm, ReturnForm


@login_required
@require_http_methods(["GET", "POST"])
def amend(request, response_id: int):
    response = get_response_for_user(request.user, response_id)
    # The role is refused here; a response that cannot be amended (a draft, a superseded
    # revision) is the write function's to explain.
    if not can_write_clinical(request.user):
        raise NotClinician("Only clinicians can amend a signed checklist.")
    if request.method == "GET":
        if not can_amend(request.user, response):
            messages.info(request, "Only the latest signed revision can be amended.")
            return redirect("response_detail", response_id=response.pk)
        return render(request, "checklists/amend.html", {"response": response, "form": AmendForm()})
    form = AmendForm(request.POST)
    if not form.is_valid():
        return render(
            request, "checklists/amend.html", {"response": response, "form": form}, status=400
        )
    try:
        draft = signing.amend_response(
            response=response,
            user=request.user,
            reason=form.cleaned_data["reason"],
            ip=audit.client_ip(request),
        )
    except signing.AmendRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("response_detail", response_id=response.pk)
    messages.success(
        request,
        f"Revision {draft.revision} started with the previous answers. "
        "Correct what is needed and sign it; the signed revision stays "
        "on record until then.",
    )
    return redirect("response_detail", response_id=draft.pk)


@login_required
@require_POST
def return_for_amendment(request, response_id: int):
    response = get_response_for_user(request.user, response_id)
    if not can_return_for_amendment(request.user):
        raise Refused("Only supervisors can return a checklist for amendment.")
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            signing.return_for_amendment(
                response=response,
                user=request.user,
                comment=form.cleaned_data["comment"],
                ip=audit.client_ip(request),
            )
        except signing.AmendRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, "Returned to the clinicians for amendment.")
    else:
        messages.error(request, "Say what needs correcting; nothing was sent.")
    return redirect("response_detail", response_id=response.pk)
