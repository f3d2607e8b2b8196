"""Checklist content in the admin: sources, templates, sections, items and citations.

Content of a version in review, published or retired shows read-only (LockedContentAdminMixin)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from ..authoring import in_words
from ..forms.item_content import ItemContentForm, earlier_items
from ..forms.item_pages import IN_WORDS, ITEM_FIELDSETS, ITEM_READONLY_FIELDSETS
from ..models import (
    ChecklistTemplate,
    Citation,
    Item,
    Section,
    Source,
    TemplateVersion,
)
from .proposing import ProposeInsteadOfSaveMixin


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
class SourceAdmin(ProposeInsteadOfSaveMixin, SimpleHistoryAdmin):
    """Sources are knowledge too (every flag and page shows their titles): proposed."""

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
    change_form_template = "admin/checklists/section/change_form.html"

    def save_formset(self, request, form, formset, change):
        # Items carry their section's version (denormalised for the key constraint).
        for item in formset.save(commit=False):
            item.version_id = form.instance.version_id
            item.save()
        for item in formset.deleted_objects:
            item.delete()
        formset.save_m2m()


class CitationInline(LockedContentAdminMixin, admin.StackedInline):
    """A citation picked by its source's title (typed into the search box), with where in
    it the claim is: one labelled block per citation, so each field has its own label."""

    model = Citation
    extra = 0
    autocomplete_fields = ["source"]
    fields = ["source", "locator"]


@admin.register(Item)
class ItemAdmin(LockedContentAdminMixin, DraftChoicesMixin, SimpleHistoryAdmin):
    """An item as clinical editors write it: structured fields for every structured value
    (forms/item_content.py), never JSON typed by hand (issue 21)."""

    form = ItemContentForm
    fieldsets = ITEM_FIELDSETS
    change_form_template = "admin/checklists/item/change_form.html"
    list_display = ["key", "prompt", "kind", "required", "section", "version", "review_by"]
    list_filter = ["version__template", "version__status", "kind", "required", "review_by"]
    list_select_related = ["section", "version__template"]
    search_fields = ["key", "prompt", "help_text"]
    ordering = ["version", "section__position", "position"]
    inlines = [CitationInline]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return ITEM_READONLY_FIELDSETS
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # The history's "view as it was" page builds a form of these fieldsets too.
        if obj is not None and not self.has_change_permission(request, obj):
            return [*super().get_readonly_fields(request, obj), *IN_WORDS]
        return super().get_readonly_fields(request, obj)

    @admin.display(description="Options")
    def options_in_words(self, item: Item) -> str:
        return in_words.options_in_words(item)

    @admin.display(description="Show when")
    def show_when_in_words(self, item: Item) -> str:
        earlier = {i.key: i for i in earlier_items(item)}
        return in_words.condition_text(item.show_when, earlier) or "Always shown"

    @admin.display(description="Caution")
    def caution_in_words(self, item: Item) -> str:
        return in_words.caution_in_words(item)

    @admin.display(description="Screening")
    def screening_in_words(self, item: Item) -> str:
        return in_words.screening_in_words(item)

    @admin.display(description="Source-document cautions")
    def tags_in_words(self, item: Item) -> str:
        return in_words.tags_in_words(item)
