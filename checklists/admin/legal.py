"""A legal row's "re-verify" page: an editor records the source read, the day and what it
says, as a proposal (authoring/proposals.propose_reverification) that a second editor
approves on the proposals page, like every other knowledge change. Nothing is written to
the row here, so its verification date, which decides whether screening asks the
clinician's own check of the law, never moves on one person's word."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .. import audit
from ..authoring import proposals
from ..authoring.workflow import WorkflowRefused
from ..forms.legal import ReverifyForm
from ..models import KnowledgeChange, LegalStatus

REVERIFY_PROPOSED = (
    "Re-verification proposed: the row's verification date changes when a second editor "
    "approves it."
)


def reverify_url(row: LegalStatus) -> str:
    return reverse("admin:checklists_legalstatus_reverify", args=[row.pk])


class ReverifyMixin:
    """For LegalStatus's ModelAdmin: the re-verify page and the link to it."""

    def get_urls(self):
        reverify = path(
            "<int:object_id>/reverify/",
            self.admin_site.admin_view(self.reverify_view),
            name="checklists_legalstatus_reverify",
        )
        return [reverify, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        if str(object_id).isdigit() and self.has_change_permission(request):
            extra["reverify_url"] = reverse(
                "admin:checklists_legalstatus_reverify", args=[object_id]
            )
        return super().change_view(request, object_id, form_url, extra)

    def reverify_view(self, request, object_id: int):
        """GET: the form, filled with the row's sources and today; POST: the proposal."""
        row = LegalStatus.objects.select_related("jurisdiction").filter(pk=object_id).first()
        if row is None:
            raise Http404("No such legal row.")
        if not self.has_change_permission(request, row):
            raise PermissionDenied
        form = ReverifyForm(request.POST if request.method == "POST" else None, row=row)
        if request.method == "POST" and form.is_valid():
            try:
                change = proposals.propose_reverification(
                    user=request.user,
                    row=row,
                    sources=list(form.cleaned_data["sources"]),
                    checked_on=form.cleaned_data["checked_on"],
                    note=form.cleaned_data["note"],
                    ip=audit.client_ip(request),
                )
            except WorkflowRefused as refusal:
                for reason in refusal.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, REVERIFY_PROPOSED)
                return redirect("admin:checklists_knowledgechange_change", change.pk)
        pending = KnowledgeChange.objects.pending().for_row("legalstatus", row.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Re-verify {row}",
            "opts": self.opts,
            "row": row,
            "form": form,
            "media": self.media + form.media,
            "pending_proposals": pending.select_related("proposed_by"),
        }
        return TemplateResponse(request, "admin/checklists/legalstatus/reverify.html", context)
