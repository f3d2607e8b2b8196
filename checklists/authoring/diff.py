"""What changed between two versions of a checklist, in words a clinician can read.

Items are matched by their stable key. Pure once the items are loaded: `diff_versions`
costs four queries (sections and items of each version) whatever their size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Item, ItemKind, Section, Severity, TemplateVersion

OPERATOR_WORDS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "includes": "includes",
    "answered": "is answered",
}


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
    for item in items:
        item.section = sections[item.section_id]
    items.sort(key=lambda i: (i.section.position, i.position))
    return sections, items


def describe_options(item: Item) -> str:
    if item.kind == ItemKind.YES_NO_UNKNOWN:
        return "Yes / No / Unknown"
    return "; ".join(f"{o['label']} [{o['code']}]" for o in item.options or []) or "none"


def describe_condition(condition: dict | None, items: dict[str, Item]) -> str:
    if not condition:
        return "Always shown"
    if "all" in condition:
        shown = [describe_condition(part, items) for part in condition["all"]]
        return " and ".join([shown[0], *(s.removeprefix("Shown when ") for s in shown[1:])])
    target = items.get(condition.get("item"))
    name = f"“{target.prompt}”" if target else condition.get("item", "?")
    op = condition.get("op")
    if op == "answered":
        return f"Shown when {name} is answered"
    values = condition.get("value")
    values = values if isinstance(values, list) else [values]
    labels = ", ".join(target.option_label(v) if target else str(v) for v in values)
    return f"Shown when {name} {OPERATOR_WORDS.get(op, op)} {labels}"


def describe_caution(item: Item) -> str:
    caution = item.caution
    if not caution:
        return "No caution"
    severity = dict(Severity.choices).get(caution.get("severity"), caution.get("severity"))
    answers = ", ".join(item.option_label(code) for code in caution.get("when", []))
    return f"{severity} caution when {answers}: {caution.get('advice', '')}"


def _option_changes(old: Item, new: Item) -> list[Change]:
    before = {o["code"]: o["label"] for o in old.choices}
    after = {o["code"]: o["label"] for o in new.choices}
    changes = []
    for code, label in after.items():
        if code not in before:
            changes.append(Change("Option added", "", f"{label} [{code}]"))
        elif before[code] != label:
            changes.append(Change(f"Option [{code}] relabelled", before[code], label))
    for code, label in before.items():
        if code not in after:
            changes.append(Change("Option removed", f"{label} [{code}]", ""))
    if not changes and list(before) != list(after):
        changes.append(Change("Options reordered", describe_options(old), describe_options(new)))
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
            Change(
                "Shown when",
                describe_condition(old.show_when, old_items),
                describe_condition(new.show_when, new_items),
            )
        )
    if old.caution != new.caution:
        changes.append(Change("Caution", describe_caution(old), describe_caution(new)))
    return changes


def diff_versions(old: TemplateVersion, new: TemplateVersion) -> VersionDiff:
    """Items added, removed and changed (question, help, options, required, show-when,
    caution, section, kind) from `old` to `new`, in checklist order."""
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
