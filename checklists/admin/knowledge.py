"""The knowledge tables in the admin: substances, products and their names, interaction and
variability rules, places and their legal status, lab limits; each with its history.

Each page proposes rather than saves (proposing.py): a second editor approves a change
before it reaches clinicians."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ..forms.knowledge import AliasFormSet, LabLimitProposalForm, SubstanceProposalForm
from ..models import (
    CombinationRule,
    InteractionRule,
    Jurisdiction,
    LabLimit,
    LegalStatus,
    Problem,
    Substance,
    SubstanceAlias,
    VariabilityRule,
)
from .legal import ReverifyMixin
from .proposing import ProposeInsteadOfSaveMixin


class SubstanceAliasInline(admin.TabularInline):
    model = SubstanceAlias
    formset = AliasFormSet
    extra = 1
    fields = ["name"]


@admin.register(Substance)
class SubstanceAdmin(ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
    """Substances, classes and products (issue 17: a product lists its ingredients and the
    label they were checked against; a class cites the source that defines its members;
    every row has a review-by date; the form says what each kind needs)."""

    form = SubstanceProposalForm
    list_display = ["name", "key", "kind", "review_by"]
    list_filter = ["kind", "classes", "review_by"]
    search_fields = ["name", "key", "aliases__name", "ingredients__name"]
    filter_horizontal = ["classes", "ingredients", "sources"]
    inlines = [SubstanceAliasInline]
    fieldsets = [
        (None, {"fields": ["key", "name", "kind", "classes"]}),
        (
            "What the row rests on: a class's defining source, a product's label",
            {"fields": ["sources", "source_says", "reviewed_on", "review_by"]},
        ),
        ("Product: its ingredients", {"fields": ["ingredients"]}),
        (None, {"fields": ["proposal_reason"]}),
    ]


class RuleAdminMixin:
    list_filter = ["severity", "agent", "review_by"]
    filter_horizontal = ["sources"]
    date_hierarchy = "review_by"


@admin.register(InteractionRule)
class InteractionRuleAdmin(ProposeInsteadOfSaveMixin, RuleAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "agent", "target", "severity", "likelihood", "evidence", "review_by"]
    list_select_related = ["target"]
    search_fields = ["code", "title", "target__name", "mechanism", "advice"]
    autocomplete_fields = ["target"]


@admin.register(VariabilityRule)
class VariabilityRuleAdmin(ProposeInsteadOfSaveMixin, RuleAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "factor", "agent", "severity", "evidence", "review_by"]
    list_filter = ["factor", *RuleAdminMixin.list_filter]
    search_fields = ["code", "title", "advice"]


@admin.register(Problem)
class ProblemAdmin(ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
    list_display = ["key", "title", "category", "review_by"]
    list_filter = ["category", "review_by"]
    search_fields = ["key", "title", "description"]
    filter_horizontal = ["sources"]


@admin.register(CombinationRule)
class CombinationRuleAdmin(ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
    list_display = ["code", "problem", "first", "second", "severity", "evidence", "review_by"]
    list_select_related = ["problem", "first", "second"]
    list_filter = ["severity", "problem", "review_by"]
    search_fields = ["code", "title", "advice", "source_says"]
    autocomplete_fields = ["first", "second"]
    filter_horizontal = ["sources"]


@admin.register(Jurisdiction)
class JurisdictionAdmin(ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]


@admin.register(LegalStatus)
class LegalStatusAdmin(ReverifyMixin, ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
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
class LabLimitAdmin(ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
    form = LabLimitProposalForm
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
