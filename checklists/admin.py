"""The admin is the content editors' tool.

Templates, versions, sections and items (with inlines and ordering), sources and the
knowledge tables, each with search, filters and its change history. A version moves
through its workflow only by the buttons and actions below, which call the services;
content of a version in review, published or retired shows read-only.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from . import audit, services
from .access import can_edit_content, can_publish_content
from .authoring.diff import diff_versions
from .authoring.validation import overdue_content, validate_version
from .models import (
    AuditEvent,
    ChecklistTemplate,
    Citation,
    InteractionRule,
    Item,
    Jurisdiction,
    LabLimit,
    LegalStatus,
    Section,
    Source,
    Substance,
    SubstanceAlias,
    Team,
    TemplateVersion,
    VariabilityRule,
)


def _version_of(obj) -> TemplateVersion | None:
    if obj is None:
        return None
    if isinstance(obj, TemplateVersion):
        return obj
    if isinstance(obj, Citation):
        return obj.item.version
    return obj.version


class LockedContentAdminMixin:
    """Rows of a version in review, published or retired can be viewed, not changed."""

    def _locked(self, obj) -> bool:
        version = _version_of(obj)
        return version is not None and version.content_locked

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._locked(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._locked(obj)

    def has_add_permission(self, request, *parent):
        # Inlines receive the parent object; a locked parent takes no new rows.
        if parent and self._locked(parent[0]):
            return False
        return super().has_add_permission(request, *parent)


class DraftChoicesMixin:
    """Foreign keys to versions and sections offer only drafts: nothing else takes rows."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            kwargs["queryset"] = TemplateVersion.objects.filter(
                status=TemplateVersion.Status.DRAFT
            ).select_related("template")
        elif db_field.name == "section":
            kwargs["queryset"] = Section.objects.filter(
                version__status=TemplateVersion.Status.DRAFT
            ).select_related("version__template")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["key", "title", "publisher", "year", "kind"]
    list_filter = ["kind", "year"]
    search_fields = ["key", "title", "publisher", "url"]
    ordering = ["key"]


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "status", "author", "approver", "published_at"]
    readonly_fields = fields
    ordering = ["-number"]
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(SimpleHistoryAdmin):
    list_display = ["title", "slug", "canonical_url"]
    search_fields = ["title", "slug", "description"]
    inlines = [VersionInline]


class SectionInline(LockedContentAdminMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["position", "key", "title"]
    ordering = ["position"]
    show_change_link = True


@admin.register(TemplateVersion)
class TemplateVersionAdmin(SimpleHistoryAdmin):
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
        "created_at",
    ]
    inlines = [SectionInline]
    actions = [
        "submit_selected",
        "approve_selected",
        "return_selected",
        "new_draft_from_selected",
        "retire_selected",
    ]
    change_form_template = "admin/checklists/templateversion/change_form.html"
    change_list_template = "admin/checklists/templateversion/change_list.html"

    # Steps offered on the version page, by status: (url name part, label, service).
    STEPS = {
        TemplateVersion.Status.DRAFT: [("submit", "Submit for review")],
        TemplateVersion.Status.IN_REVIEW: [
            ("approve", "Approve and publish"),
            ("return", "Send back to draft"),
        ],
        TemplateVersion.Status.PUBLISHED: [("retire", "Retire")],
        TemplateVersion.Status.RETIRED: [],
    }
    SERVICES = {
        "submit": services.submit_for_review,
        "approve": services.approve_and_publish,
        "return": services.return_to_draft,
        "retire": services.retire_version,
        "new-draft": services.new_draft_from,
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
            last = obj.template.versions.aggregate(n=Max("number"))["n"] or 0
            obj.number, obj.author = last + 1, request.user
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
            *super().get_urls(),
        ]

    # --- pages -------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = TemplateVersion.objects.filter(pk=object_id).first()
        extra = dict(extra_context or {})
        if version is not None:
            steps = [*self.STEPS[version.status], ("new-draft", "New draft from this version")]
            extra["workflow_steps"] = [
                (reverse("admin:checklists_version_workflow", args=[version.pk, step]), label)
                for step, label in steps
            ]
            extra["diff_url"] = reverse("admin:checklists_version_diff", args=[version.pk])
            if version.status in (TemplateVersion.Status.DRAFT, TemplateVersion.Status.IN_REVIEW):
                extra["problems"] = validate_version(version)
        return super().change_view(request, object_id, form_url, extra)

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
        try:
            result = self.SERVICES[step](
                version=version, user=request.user, ip=audit.client_ip(request)
            )
        except services.WorkflowRefused as refusal:
            for reason in refusal.reasons:
                messages.error(request, reason)
        else:
            messages.success(
                request, f"{result.template.title} v{result.number}: {result.get_status_display()}."
            )
            version = result
        return redirect("admin:checklists_templateversion_change", version.pk)

    def diff_view(self, request, object_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = TemplateVersion.objects.select_related("template").filter(pk=object_id).first()
        if version is None:
            raise Http404("No such version.")
        others = version.template.versions.exclude(pk=version.pk).order_by("-number")
        against = others.filter(pk=request.GET.get("against") or 0).first()
        if against is None:
            against = (
                others.filter(pk=version.based_on_id).first()
                or others.filter(number__lt=version.number).first()
            )
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
        context = {
            **self.admin_site.each_context(request),
            "title": "Content past its review-by date",
            "opts": self.model._meta,
            "today": today,
            "groups": groups,
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
            except services.WorkflowRefused as refusal:
                self.message_user(
                    request, f"{version}: {' '.join(refusal.reasons)}", messages.ERROR
                )
            else:
                self.message_user(request, f"{result}: done.", messages.SUCCESS)

    @admin.action(description="Submit selected drafts for review", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._run(request, queryset, "submit")

    @admin.action(description="Approve and publish selected versions", permissions=["publish"])
    def approve_selected(self, request, queryset):
        self._run(request, queryset, "approve")

    @admin.action(description="Send selected versions back to draft", permissions=["change"])
    def return_selected(self, request, queryset):
        self._run(request, queryset, "return")

    @admin.action(description="New draft from each selected version", permissions=["change"])
    def new_draft_from_selected(self, request, queryset):
        self._run(request, queryset, "new-draft")

    @admin.action(description="Retire selected published versions", permissions=["change"])
    def retire_selected(self, request, queryset):
        self._run(request, queryset, "retire")


class ItemInlineFormSet(BaseInlineFormSet):
    """Item rows on the section page take the section's version before they are validated,
    so a repeated key is a form error rather than a database error."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.version_id = self.instance.version_id
        return form

    def clean(self):
        super().clean()
        keys = [
            form.cleaned_data["key"]
            for form in self.forms
            if form.cleaned_data.get("key") and not form.cleaned_data.get("DELETE")
        ]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValidationError(f"Item keys repeat on this page: {', '.join(repeated)}.")


class ItemInline(LockedContentAdminMixin, admin.TabularInline):
    model = Item
    formset = ItemInlineFormSet
    extra = 0
    fields = ["position", "key", "prompt", "kind", "required", "review_by"]
    ordering = ["position"]
    show_change_link = True


@admin.register(Section)
class SectionAdmin(LockedContentAdminMixin, DraftChoicesMixin, SimpleHistoryAdmin):
    list_display = ["title", "key", "position", "version"]
    list_filter = ["version__template", "version__status"]
    list_select_related = ["version__template"]
    search_fields = ["key", "title", "intro"]
    ordering = ["version", "position"]
    inlines = [ItemInline]

    def save_formset(self, request, form, formset, change):
        # Items carry their section's version (denormalised for the key constraint).
        for item in formset.save(commit=False):
            item.version_id = form.instance.version_id
            item.save()
        for item in formset.deleted_objects:
            item.delete()
        formset.save_m2m()


class CitationInline(LockedContentAdminMixin, admin.TabularInline):
    model = Citation
    extra = 0
    autocomplete_fields = ["source"]


@admin.register(Item)
class ItemAdmin(LockedContentAdminMixin, DraftChoicesMixin, SimpleHistoryAdmin):
    list_display = ["key", "prompt", "kind", "required", "section", "version", "review_by"]
    list_filter = ["version__template", "version__status", "kind", "required", "review_by"]
    list_select_related = ["section", "version__template"]
    search_fields = ["key", "prompt", "help_text"]
    ordering = ["version", "section__position", "position"]
    inlines = [CitationInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "action", "object_type", "object_id", "case_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubstanceAliasInline(admin.TabularInline):
    model = SubstanceAlias
    extra = 1
    fields = ["name"]


@admin.register(Substance)
class SubstanceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "key", "kind"]
    list_filter = ["kind", "classes"]
    search_fields = ["name", "key", "aliases__name"]
    filter_horizontal = ["classes"]
    inlines = [SubstanceAliasInline]


class RuleAdminMixin:
    list_filter = ["severity", "agent", "review_by"]
    filter_horizontal = ["sources"]
    date_hierarchy = "review_by"


@admin.register(InteractionRule)
class InteractionRuleAdmin(RuleAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "agent", "target", "severity", "likelihood", "evidence", "review_by"]
    list_select_related = ["target"]
    search_fields = ["code", "title", "target__name", "mechanism", "advice"]
    autocomplete_fields = ["target"]


@admin.register(VariabilityRule)
class VariabilityRuleAdmin(RuleAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "factor", "agent", "severity", "evidence", "review_by"]
    list_filter = ["factor", *RuleAdminMixin.list_filter]
    search_fields = ["code", "title", "advice"]


@admin.register(Jurisdiction)
class JurisdictionAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]


@admin.register(LegalStatus)
class LegalStatusAdmin(SimpleHistoryAdmin):
    list_display = [
        "jurisdiction",
        "substance",
        "status",
        "minimum_age",
        "effective_from",
        "effective_to",
        "verified_on",
        "review_by",
    ]
    list_filter = ["substance", "status", "jurisdiction__kind", "review_by"]
    list_select_related = ["jurisdiction"]
    search_fields = ["jurisdiction__code", "jurisdiction__name", "summary"]
    autocomplete_fields = ["jurisdiction"]
    filter_horizontal = ["sources"]


@admin.register(LabLimit)
class LabLimitAdmin(SimpleHistoryAdmin):
    list_display = [
        "substance",
        "analyte",
        "label",
        "comparison",
        "limit",
        "unit",
        "required",
        "severity_on_fail",
        "review_by",
    ]
    list_filter = ["substance", "severity_on_fail", "required"]
    search_fields = ["analyte", "label"]
    filter_horizontal = ["sources"]
