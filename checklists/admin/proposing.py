"""The knowledge tables' admin pages propose; they never write.

Saving an add or change form, confirming a delete and the "delete selected" action of a
knowledge table each record a proposal (authoring/proposals.py) and write no row: a
second editor approves it on the review page (proposals.py in this package) before any
clinician's screening sees it. django-simple-history's revert form, which would save the
row directly, refuses POST. The admin's own change log is not written for a proposal (the
row did not change); the audit trail records it.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .. import audit
from ..access import can_propose_knowledge
from ..authoring import proposals
from ..authoring.knowledge_values import form_values, row_values
from ..authoring.workflow import WorkflowRefused
from ..forms.knowledge import KnowledgeProposalForm, ProposalReasonForm
from ..models import KnowledgeChange

PROPOSED = "Proposed for review: a second editor must approve it before clinicians see it."


class ProposeInsteadOfSaveMixin:
    """For the ModelAdmin of a knowledge table (listed in KnowledgeChange.Table)."""

    form = KnowledgeProposalForm
    change_form_template = "admin/checklists/knowledge/change_form.html"
    delete_confirmation_template = "admin/checklists/knowledge/delete_confirmation.html"
    actions = ["delete_selected"]

    # --- who may propose: the table's permission and the proposing one ---------------

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and can_propose_knowledge(request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and can_propose_knowledge(request.user)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and can_propose_knowledge(request.user)

    # --- add and change: the form's values become a proposal ---------------------------

    def save_model(self, request, obj, form, change):
        """Writes nothing: save_related, which also has the inline rows, proposes."""

    def save_related(self, request, form, formsets, change):
        row = form.instance
        stored = row_values(type(row).objects.get(pk=row.pk)) if change else None
        kind = KnowledgeChange.Kind.CHANGE if change else KnowledgeChange.Kind.ADD
        self._propose(
            request,
            row,
            kind,
            form_values(form, formsets, stored),
            form.cleaned_data["proposal_reason"],
        )

    def _propose(self, request, row, kind, values, reason) -> KnowledgeChange | None:
        """Record one proposal; a refusal becomes an error message (kept on the request
        for the response methods, which Django calls next)."""
        try:
            change = proposals.propose_change(
                user=request.user,
                row=row,
                kind=kind,
                proposed=values,
                reason=reason,
                ip=audit.client_ip(request),
            )
        except WorkflowRefused as refusal:
            request.knowledge_refusal = refusal
            return None
        request.knowledge_proposal = change
        return change

    def construct_change_message(self, request, form, formsets, add=False):
        """Django's message lists the inline rows saved; none were (and none is logged)."""
        return ""

    def log_addition(self, request, obj, message):
        """Nothing was added yet (see the module's docstring)."""

    def log_change(self, request, obj, message):
        """Nothing was changed yet."""

    def log_deletions(self, request, queryset):
        """Nothing was deleted yet."""

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_proposal(request, reverse(self._url("add")))

    def response_change(self, request, obj):
        return self._after_proposal(request, reverse(self._url("change"), args=[obj.pk]))

    def _after_proposal(self, request, back_to: str):
        """The proposal's review page; on a refusal, the form again with the reason."""
        refusal = getattr(request, "knowledge_refusal", None)
        if refusal is not None:
            for reason in refusal.reasons:
                messages.warning(request, reason)
            return redirect(back_to)
        messages.success(request, PROPOSED)
        return redirect("admin:checklists_knowledgechange_change", request.knowledge_proposal.pk)

    def _url(self, page: str) -> str:
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_{page}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The page names the proposals already waiting for this row."""
        pending = []
        if str(object_id).isdigit():  # the admin answers any other id with a redirect
            found = KnowledgeChange.objects.pending().for_row(self.opts.model_name, object_id)
            pending = found.select_related("proposed_by")
        extra = {"pending_proposals": pending}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # --- delete: one row, or the selected rows ----------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        """A delete is confirmed with its reason; without one the page is shown again."""
        if request.method == "POST" and not ProposalReasonForm(request.POST).is_valid():
            messages.error(request, "Say why this row should be deleted.")
            return redirect(request.path)
        extra = {"reason_form": ProposalReasonForm(), **(extra_context or {})}
        return super().delete_view(request, object_id, extra)

    def delete_model(self, request, obj):
        reason = request.POST.get("proposal_reason", "")
        self._propose(request, obj, KnowledgeChange.Kind.DELETE, {}, reason)

    def response_delete(self, request, obj_display, obj_id):
        return self._after_proposal(request, reverse(self._url("change"), args=[obj_id]))

    def delete_queryset(self, request, queryset):
        """Never a bulk delete: one deletion proposal per row, each with the reason."""
        reason = request.POST.get("proposal_reason", "")
        made = 0
        for row in queryset:
            try:
                proposals.propose_change(
                    user=request.user,
                    row=row,
                    kind=KnowledgeChange.Kind.DELETE,
                    proposed={},
                    reason=reason,
                    ip=audit.client_ip(request),
                )
            except WorkflowRefused as refusal:
                self.message_user(request, f"{row}: {' '.join(refusal.reasons)}", messages.ERROR)
            else:
                made += 1
        return made

    @admin.action(
        permissions=["delete"], description="Propose deleting the selected %(verbose_name_plural)s"
    )
    def delete_selected(self, request, queryset):
        """Django's "delete selected", routed: the confirmation asks the reason, and each
        row becomes a deletion proposal for a second editor."""
        _, _, perms_needed, protected = self.get_deleted_objects(queryset, request)
        form = ProposalReasonForm(request.POST if request.POST.get("post") else None)
        if form.is_valid() and not protected and not perms_needed:
            made = self.delete_queryset(request, queryset)
            self.message_user(
                request,
                f"Proposed deleting {made} {model_ngettext(self.opts, made)}: a second editor "
                "must approve each before clinicians see it.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Propose deleting",
            "opts": self.opts,
            "queryset": queryset,
            "objects_name": str(model_ngettext(queryset)),
            "protected": protected,
            "perms_lacking": perms_needed,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/checklists/knowledge/delete_selected_confirmation.html", context
        )

    # --- django-simple-history's revert form ---------------------------------------------

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Viewing a past state only: a revert would write the row without a proposal
        (copy the old values into the change form instead)."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)
