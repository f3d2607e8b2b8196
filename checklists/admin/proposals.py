"""The review of knowledge proposals: the list, one proposal's before/after, and its
decision (approve, reject, withdraw) by POST through authoring/proposals.py.

Proposals are never edited or deleted here: the list and each page are read-only, and the
only writes are the decision buttons, each offered to whom access.can_decide_knowledge
allows (approve and reject: a second editor with the approve permission; withdraw: the
proposer)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from ..access import can_decide_knowledge
from ..authoring import proposals
from ..authoring.knowledge_values import describe, model_for, row_values
from ..forms.knowledge import DecisionForm
from ..models import KnowledgeChange
from .decisions import DecidedNotEditedAdmin

STEPS = [("approve", "Approve and apply"), ("reject", "Reject"), ("withdraw", "Withdraw")]


@admin.register(KnowledgeChange)
class KnowledgeChangeAdmin(DecidedNotEditedAdmin, admin.ModelAdmin):
    # Added by their own flow, decided by the buttons below, never edited or deleted.
    decide_url_name = "checklists_knowledge_decide"
    decide_services = proposals.SERVICES
    decide_argument = "change"
    steps = STEPS
    list_display = [
        "__str__",
        "model_name",
        "kind",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_by",
    ]
    list_filter = ["status", "model_name", "kind"]
    list_select_related = ["proposed_by", "decided_by"]
    search_fields = ["row_label", "reason"]
    ordering = ["-proposed_at", "-id"]
    actions = None

    def may_decide(self, user, step: str, target) -> bool:
        return can_decide_knowledge(user, step, target)

    def decided_message(self, done) -> str:
        return _decided_message(done)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """One proposal: who, when, why, the fields before and after, and the buttons."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        change = self._get(object_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Knowledge change {change}",
            "opts": self.opts,
            "change": change,
            "rows": describe(change),
            "stale": _stale(change),
            "row_url": _row_url(change),
            "form": DecisionForm(),
            "steps": self.decision_steps(request, change),
        }
        return TemplateResponse(request, "admin/checklists/knowledgechange/review.html", context)

    @staticmethod
    def _get(object_id) -> KnowledgeChange:
        found = KnowledgeChange.objects.select_related("proposed_by", "decided_by")
        change = found.filter(pk=object_id).first()
        if change is None:
            raise Http404("No such proposal.")
        return change


def _decided_message(change: KnowledgeChange) -> str:
    if change.status == KnowledgeChange.Status.APPROVED:
        return f"{change}: approved and applied. Clinicians' next screening uses it."
    return f"{change}: {change.get_status_display().lower()}. The knowledge is unchanged."


def _stale(change: KnowledgeChange) -> bool:
    """A pending change or delete whose row no longer holds the values it was proposed
    against (approval would be refused)."""
    if not change.is_pending or change.kind == KnowledgeChange.Kind.ADD:
        return False
    row = model_for(change.model_name).objects.filter(pk=change.object_id).first()
    return row is None or row_values(row) != change.base


def _row_url(change: KnowledgeChange) -> str | None:
    if change.object_id is None:
        return None
    if not model_for(change.model_name).objects.filter(pk=change.object_id).exists():
        return None
    try:
        name = f"admin:checklists_{change.model_name}_change"
        return reverse(name, args=[change.object_id])
    except NoReverseMatch:
        return None
