"""A template's versions in the admin: the workflow buttons (through authoring/workflow.py),
the diff between versions and the page of content past its review-by date."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from .. import audit
from ..access import can_edit_content, can_publish_content, can_take_workflow_step
from ..authoring import workflow
from ..authoring.diff import diff_versions
from ..authoring.validation import (
    STALE_WARNING_DAYS,
    legal_rows_going_stale,
    overdue_content,
    validate_version,
)
from ..forms.filters import VersionDiffForm
from ..forms.review import STEP_FORMS, SubmitForm
from ..models import (
    TemplateVersion,
)
from .content import SectionInline
from .legal import reverify_url
from .version_pages import VersionPagesMixin, preview_url, previous_version


@admin.register(TemplateVersion)
class TemplateVersionAdmin(VersionPagesMixin, SimpleHistoryAdmin):
    list_display = [
        "template",
        "number",
        "status",
        "author",
        "submitted_at",
        "approver",
        "published_at",
        "retired_at",
    ]
    list_filter = ["status", "template"]
    list_select_related = ["template", "author", "approver"]
    search_fields = ["template__title", "template__slug", "change_summary"]
    ordering = ["template", "-number"]
    readonly_fields = [
        "status",
        "content_hash",
        "based_on",
        "author",
        "submitted_by",
        "submitted_at",
        "approver",
        "published_at",
        "retired_at",
        "retire_proposed_by",
        "retire_proposed_at",
        "created_at",
    ]
    inlines = [SectionInline]
    # Submitting, approving and sending back take words (a summary, a tick, a comment):
    # they are taken one version at a time on its page, never as a list action.
    actions = ["new_draft_from_selected", "retire_selected"]
    change_form_template = "admin/checklists/templateversion/change_form.html"
    change_list_template = "admin/checklists/templateversion/change_list.html"

    # Steps offered as buttons on the version page, by status: (url name part, label).
    # Submitting is the summary form above them; approving and sending back happen on the
    # approval page (version_pages.py).
    STEPS = {
        TemplateVersion.Status.DRAFT: [],
        TemplateVersion.Status.IN_REVIEW: [],
        TemplateVersion.Status.PUBLISHED: [("retire", "Propose retiring")],
        TemplateVersion.Status.RETIRED: [],
    }
    # A published version whose retirement is proposed: a second editor confirms it.
    RETIRE_PROPOSED_STEPS = [
        ("confirm-retire", "Confirm retirement"),
        ("cancel-retire", "Cancel the retirement"),
    ]
    SERVICES = {
        "submit": workflow.submit_for_review,
        "approve": workflow.approve_and_publish,
        "return": workflow.return_to_draft,
        "retire": workflow.retire_version,
        "confirm-retire": workflow.confirm_retirement,
        "cancel-retire": workflow.cancel_retirement,
        "new-draft": workflow.new_draft_from,
    }

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["template", "change_summary"]
        return ["template", "number", "change_summary", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["template", "number", *self.readonly_fields]

    def has_change_permission(self, request, obj=None):
        editable = obj is None or obj.status == TemplateVersion.Status.DRAFT
        return super().has_change_permission(request, obj) and editable

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.status == TemplateVersion.Status.DRAFT
        return super().has_delete_permission(request, obj) and editable

    def has_publish_permission(self, request) -> bool:
        return can_publish_content(request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            # A version added here starts empty as a draft; "new draft from" copies one.
            obj.number = workflow.next_version_number(obj.template)
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("overdue/", wrap(self.overdue_view), name="checklists_content_overdue"),
            path("<int:object_id>/diff/", wrap(self.diff_view), name="checklists_version_diff"),
            path(
                "<int:object_id>/workflow/<slug:step>/",
                wrap(self.workflow_view),
                name="checklists_version_workflow",
            ),
            *self.version_page_urls(),
            *super().get_urls(),
        ]

    # --- pages -------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = TemplateVersion.objects.filter(pk=object_id).first()
        extra = dict(extra_context or {})
        if version is not None:
            steps = [*self._steps(version), ("new-draft", "New draft from this version")]
            # Only the steps this editor may take: the author of a version in review is not
            # offered "Approve" (the two-person rule, access.can_approve_version).
            extra["workflow_steps"] = [
                (reverse("admin:checklists_version_workflow", args=[version.pk, step]), label)
                for step, label in steps
                if can_take_workflow_step(request.user, step, version)
            ]
            extra["diff_url"] = reverse("admin:checklists_version_diff", args=[version.pk])
            extra["preview_url"] = preview_url(version.pk)
            extra["review_history"] = workflow.review_history(version)
            if version.is_draft and can_take_workflow_step(request.user, "submit", version):
                extra["submit_url"] = reverse(
                    "admin:checklists_version_workflow", args=[version.pk, "submit"]
                )
                extra["submit_form"] = SubmitForm(initial={"summary": version.change_summary})
            if version.status == TemplateVersion.Status.IN_REVIEW and can_take_workflow_step(
                request.user, "return", version
            ):
                extra["review_url"] = reverse("admin:checklists_version_review", args=[version.pk])
            if version.status in (TemplateVersion.Status.DRAFT, TemplateVersion.Status.IN_REVIEW):
                extra["problems"] = validate_version(version)
        return super().change_view(request, object_id, form_url, extra)

    def _steps(self, version: TemplateVersion) -> list[tuple[str, str]]:
        if version.status == TemplateVersion.Status.PUBLISHED and version.retire_proposed_by_id:
            return self.RETIRE_PROPOSED_STEPS
        return self.STEPS[version.status]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "overdue_url": reverse("admin:checklists_content_overdue"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def workflow_view(self, request, object_id: int, step: str):
        """POST only (with the admin's CSRF check): one workflow step through its service."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if step not in self.SERVICES:
            raise Http404("No such step.")
        if not can_edit_content(request.user):
            raise PermissionDenied
        version = TemplateVersion.objects.filter(pk=object_id).first()
        if version is None:
            raise Http404("No such version.")
        form = STEP_FORMS[step](request.POST) if step in STEP_FORMS else None
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(_back(step), version.pk)
        try:
            result = self.SERVICES[step](
                version=version,
                user=request.user,
                ip=audit.client_ip(request),
                **(form.cleaned_data if form is not None else {}),
            )
        except workflow.WorkflowRefused as refusal:
            for reason in refusal.reasons:
                messages.error(request, reason)
            return redirect(_back(step), version.pk)
        messages.success(request, _done(result, step))
        return redirect("admin:checklists_templateversion_change", result.pk)

    def diff_view(self, request, object_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = TemplateVersion.objects.select_related("template").filter(pk=object_id).first()
        if version is None:
            raise Http404("No such version.")
        choice = VersionDiffForm(request.GET)
        if not choice.is_valid():
            return HttpResponseBadRequest(
                "Choose the version to compare with from the list (?against= takes its id).",
                content_type="text/plain",
            )
        others = version.template.versions.exclude(pk=version.pk).order_by("-number")
        against = others.filter(pk=choice.cleaned_data["against"] or 0).first()
        if against is None:
            against = previous_version(version)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes in {version}",
            "opts": self.model._meta,
            "version": version,
            "others": others,
            "against": against,
            "diff": diff_versions(against, version) if against else None,
        }
        return TemplateResponse(request, "admin/checklists/templateversion/diff.html", context)

    def overdue_view(self, request):
        if not can_edit_content(request.user):
            raise PermissionDenied
        today = timezone.localdate()
        groups = overdue_content(today)
        for group in groups:
            group.links = [(row, self._admin_url(row)) for row in group.rows]
        going_stale = legal_rows_going_stale(today)
        context = {
            **self.admin_site.each_context(request),
            "title": "Content past its review-by date",
            "opts": self.model._meta,
            "today": today,
            "groups": groups,
            "stale_days": settings.LEGAL_STALE_DAYS,
            "warning_days": STALE_WARNING_DAYS,
            "going_stale": [
                (row, self._admin_url(row), reverify_url(row), row.is_stale(today))
                for row in going_stale
            ],
        }
        return TemplateResponse(request, "admin/checklists/overdue.html", context)

    @staticmethod
    def _admin_url(row) -> str | None:
        meta = row._meta
        try:
            return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
        except NoReverseMatch:
            return None

    # --- changelist actions (POST with CSRF, like every admin action) ------------------

    def _run(self, request, queryset, step: str) -> None:
        for version in queryset.select_related("template"):
            try:
                result = self.SERVICES[step](
                    version=version, user=request.user, ip=audit.client_ip(request)
                )
            except workflow.WorkflowRefused as refusal:
                self.message_user(
                    request, f"{version}: {' '.join(refusal.reasons)}", messages.ERROR
                )
            else:
                self.message_user(request, _done(result, step), messages.SUCCESS)

    @admin.action(description="New draft from each selected version", permissions=["change"])
    def new_draft_from_selected(self, request, queryset):
        self._run(request, queryset, "new-draft")

    @admin.action(
        description="Propose retiring selected published versions", permissions=["change"]
    )
    def retire_selected(self, request, queryset):
        self._run(request, queryset, "retire")


def _back(step: str) -> str:
    """Where a refused step returns: the approval page for its two steps, else the version."""
    if step in ("approve", "return"):
        return "admin:checklists_version_review"
    return "admin:checklists_templateversion_change"


def _done(version: TemplateVersion, step: str) -> str:
    """What a step did, in words; a proposed retirement says who must act next."""
    name = f"{version.template.title} v{version.number}"
    if step == "retire":
        return (
            f"{name}: retirement proposed. A second editor must confirm it; until then it "
            "stays published and new checklists keep starting on it."
        )
    if step == "confirm-retire":
        return f"{name}: retired. New checklists cannot start until another version is published."
    return f"{name}: {version.get_status_display()}."
