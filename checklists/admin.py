"""The admin is the content editors' tool. Published content shows read-only."""

from __future__ import annotations

from django.contrib import admin

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


class FrozenContentAdminMixin:
    """Rows of a published or retired version can be viewed but not changed or deleted."""

    def _frozen(self, obj) -> bool:
        if obj is None:
            return False
        version = obj if isinstance(obj, TemplateVersion) else obj.version
        return version.is_frozen

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._frozen(obj)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "publisher", "year", "kind"]
    list_filter = ["kind"]
    search_fields = ["key", "title", "publisher"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "canonical_url"]
    search_fields = ["title", "slug"]


class SectionInline(FrozenContentAdminMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["position", "key", "title"]
    show_change_link = True

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.is_frozen


@admin.register(TemplateVersion)
class TemplateVersionAdmin(FrozenContentAdminMixin, admin.ModelAdmin):
    list_display = ["template", "number", "status", "published_at", "author", "approver"]
    list_filter = ["status", "template"]
    list_select_related = ["template", "author", "approver"]
    readonly_fields = ["content_hash", "published_at", "created_at", "author", "approver"]
    inlines = [SectionInline]


class CitationInline(FrozenContentAdminMixin, admin.TabularInline):
    model = Citation
    extra = 0
    autocomplete_fields = ["source"]

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.version.is_frozen


@admin.register(Item)
class ItemAdmin(FrozenContentAdminMixin, admin.ModelAdmin):
    list_display = ["key", "prompt", "kind", "required", "section", "version", "review_by"]
    list_filter = ["version__template", "version__status", "kind", "required"]
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
class SubstanceAdmin(admin.ModelAdmin):
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
class InteractionRuleAdmin(RuleAdminMixin, admin.ModelAdmin):
    list_display = ["code", "agent", "target", "severity", "likelihood", "evidence", "review_by"]
    list_select_related = ["target"]
    search_fields = ["code", "title", "target__name", "mechanism", "advice"]
    autocomplete_fields = ["target"]


@admin.register(VariabilityRule)
class VariabilityRuleAdmin(RuleAdminMixin, admin.ModelAdmin):
    list_display = ["code", "factor", "agent", "severity", "evidence", "review_by"]
    list_filter = ["factor", *RuleAdminMixin.list_filter]
    search_fields = ["code", "title", "advice"]


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]


@admin.register(LegalStatus)
class LegalStatusAdmin(admin.ModelAdmin):
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
class LabLimitAdmin(admin.ModelAdmin):
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
