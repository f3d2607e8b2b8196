"""What changed between two versions of a checklist, in words a clinician can read.

Items are matched by their stable key. Every part of an item that changes what it does is
compared (wording, options, required, show-when, caution, screening, source-document
cautions, citations), worded as the locked item page words it (`in_words`): the second
editor approves what this lists. Pure once the items are loaded: `diff_versions` costs six
queries (sections, items and citations of each version) whatever their size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Citation, Item, Section, TemplateVersion
from .in_words import (
    caution_in_words,
    citations_in_words,
    condition_text,
    options_in_words,
    screening_in_words,
    tags_in_words,
)


@dataclass
class Change:
    what: str  # "Question", "Help text", "Options", ...
    before: str
    after: str


@dataclass
class ItemChange:
    key: str
    section: str
    prompt: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class VersionDiff:
    old: TemplateVersion
    new: TemplateVersion
    added: list[Item] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)
    changed: list[ItemChange] = field(default_factory=list)
    sections: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.sections)


def _load(version: TemplateVersion) -> tuple[dict[int, Section], list[Item]]:
    sections = {s.pk: s for s in Section.objects.filter(version=version)}
    items = list(Item.objects.filter(version=version))
    citations: dict[int, list[Citation]] = {}
    for citation in Citation.objects.filter(item__version=version).select_related("source"):
        citations.setdefault(citation.item_id, []).append(citation)
    for item in items:
        item.section = sections[item.section_id]
        item.cited = citations.get(item.pk, [])
    items.sort(key=lambda i: (i.section.position, i.position))
    return sections, items


def _shown_when(item: Item, items: dict[str, Item]) -> str:
    return condition_text(item.show_when, items) or "Always shown"


def _cited(item: Item) -> list[tuple[int, str]]:
    return [(c.source_id, c.locator) for c in item.cited]


def _option_changes(old: Item, new: Item) -> list[Change]:
    before = {o["code"]: o["label"] for o in old.choices}
    after = {o["code"]: o["label"] for o in new.choices}
    changes = []
    for code, label in after.items():
        if code not in before:
            changes.append(Change("Option added", "", f"{label} ({code})"))
        elif before[code] != label:
            changes.append(Change(f"Option ({code}) relabelled", before[code], label))
    for code, label in before.items():
        if code not in after:
            changes.append(Change("Option removed", f"{label} ({code})", ""))
    if not changes and list(before) != list(after):
        changes.append(Change("Options reordered", options_in_words(old), options_in_words(new)))
    return changes


def _item_changes(
    old: Item, new: Item, old_items: dict[str, Item], new_items: dict[str, Item]
) -> list[Change]:
    changes: list[Change] = []

    def compare(what: str, before: Any, after: Any) -> None:
        if before != after:
            changes.append(Change(what, str(before), str(after)))

    compare("Question", old.prompt, new.prompt)
    compare("Help text", old.help_text, new.help_text)
    compare("Section", old.section.title, new.section.title)
    compare("Kind", old.get_kind_display(), new.get_kind_display())
    changes += _option_changes(old, new)
    compare(
        "Required",
        "Required" if old.required else "Optional",
        "Required" if new.required else "Optional",
    )
    if old.show_when != new.show_when:
        changes.append(
            Change("Shown when", _shown_when(old, old_items), _shown_when(new, new_items))
        )
    if old.caution != new.caution:
        changes.append(Change("Caution", caution_in_words(old), caution_in_words(new)))
    if old.screening != new.screening:
        changes.append(Change("Screening", screening_in_words(old), screening_in_words(new)))
    if (old.caution_tags or []) != (new.caution_tags or []):
        changes.append(Change("Source-document cautions", tags_in_words(old), tags_in_words(new)))
    if _cited(old) != _cited(new):
        changes.append(
            Change("Sources", citations_in_words(old.cited), citations_in_words(new.cited))
        )
    return changes


def diff_versions(old: TemplateVersion, new: TemplateVersion) -> VersionDiff:
    """Items added, removed and changed (question, help, section, kind, options, required,
    show-when, caution, screening, source-document cautions, sources) from `old` to `new`,
    in checklist order."""
    old_sections, old_list = _load(old)
    new_sections, new_list = _load(new)
    old_items = {i.key: i for i in old_list}
    new_items = {i.key: i for i in new_list}
    diff = VersionDiff(old=old, new=new)
    diff.added = [i for i in new_list if i.key not in old_items]
    diff.removed = [i for i in old_list if i.key not in new_items]
    for item in new_list:
        before = old_items.get(item.key)
        if before is None:
            continue
        changes = _item_changes(before, item, old_items, new_items)
        if changes:
            diff.changed.append(ItemChange(item.key, item.section.title, item.prompt, changes))
    old_by_key = {s.key: s for s in old_sections.values()}
    new_by_key = {s.key: s for s in new_sections.values()}
    for key, section in sorted(new_by_key.items(), key=lambda kv: kv[1].position):
        if key not in old_by_key:
            diff.sections.append(Change("Section added", "", section.title))
        elif old_by_key[key].title != section.title:
            diff.sections.append(Change("Section renamed", old_by_key[key].title, section.title))
        elif old_by_key[key].intro != section.intro:
            diff.sections.append(
                Change(f"Introduction of “{section.title}”", old_by_key[key].intro, section.intro)
            )
    for key, section in old_by_key.items():
        if key not in new_by_key:
            diff.sections.append(Change("Section removed", section.title, ""))
    return diff
