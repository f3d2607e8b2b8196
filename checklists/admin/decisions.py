"""The decision step shared by the review pages of knowledge proposals and knowledge
releases: a POST with an optional comment, handed to one of the write functions of
authoring/ (`proposals.SERVICES`, `release.SERVICES`), its refusal reasons or its outcome
shown as messages, and back to the page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse

from .. import audit
from ..authoring.workflow import WorkflowRefused
from ..forms.knowledge import DecisionForm


def decide(
    model_admin,
    request,
    *,
    step: str,
    services: Mapping[str, Callable[..., Any]],
    lookup: Callable[[], Any],
    argument: str,
    done_message: Callable[[Any], str],
) -> HttpResponse:
    """POST only (the admin checks CSRF): `services[step]` called with the object `lookup`
    finds as keyword `argument`, the user, the comment and the address."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if step not in services:
        raise Http404("No such step.")
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    target = lookup()
    back = redirect(f"admin:checklists_{target._meta.model_name}_change", target.pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("comment", ["Check the comment."])))
        return back
    try:
        done = services[step](
            **{argument: target},
            user=request.user,
            comment=form.cleaned_data["comment"],
            ip=audit.client_ip(request),
        )
    except WorkflowRefused as refusal:
        for reason in refusal.reasons:
            messages.error(request, reason)
    else:
        messages.success(request, done_message(done))
    return back


class DecidedNotEditedAdmin:
    """For an admin whose rows are decided by the buttons of `decide_view`, never added,
    edited or deleted in the admin. A subclass names the decision route (`decide_url_name`),
    the write functions (`decide_services`, keyword `decide_argument`), who may take a step
    (`may_decide`), how a row is found (`_get`) and what success says (`decided_message`)."""

    decide_url_name = ""
    decide_services: Mapping[str, Callable[..., Any]] = {}
    decide_argument = ""
    steps: list[tuple[str, str]] = []

    def may_decide(self, user, step: str, target) -> bool:
        raise NotImplementedError

    def decided_message(self, done) -> str:
        raise NotImplementedError

    def decision_steps(self, request, target) -> list[tuple[str, str]]:
        """The review page's buttons: (URL, label) for each step the user may take."""
        return [
            (reverse(f"admin:{self.decide_url_name}", args=[target.pk, step]), label)
            for step, label in self.steps
            if self.may_decide(request.user, step, target)
        ]

    def decide_view(self, request, object_id: int, step: str):
        """POST only: one of the steps, through its write function."""
        return decide(
            self,
            request,
            step=step,
            services=self.decide_services,
            lookup=lambda: self._get(object_id),
            argument=self.decide_argument,
            done_message=self.decided_message,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        route = path(
            "<int:object_id>/decide/<slug:step>/",
            self.admin_site.admin_view(self.decide_view),
            name=self.decide_url_name,
        )
        return [route, *super().get_urls()]
