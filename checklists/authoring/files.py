"""A checklist data file: reading it, refusing it when malformed, and its content hash.

The shape is the one `checklists/content/default_checklist.json` has, that
`load_template` (loaders.py) stores and `version_data` gives back for a stored version.
A version's content hash is the SHA-256 of its canonical JSON (sorted keys, no spaces),
so the same content always gets the same hash, and loading a file whose content is
already stored changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ..conditions import OPERATORS, condition_items
from ..models import (
    Citation,
    Item,
    ItemKind,
    Severity,
    TemplateVersion,
)
from ..models.knowledge import is_question
from .checks import ContentError, check_text, check_type
from .screening_keys import SCREENING_ROLES, check_screening

# Names other modules still take from here.
__all__ = ["SCREENING_ROLES", "ContentError", "check_text", "check_type"]

# checklists/content/: this module lives one level below it, in checklists/authoring/.
CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
ITEM_FIELDS = (
    "key",
    "prompt",
    "help_text",
    "kind",
    "options",
    "required",
    "show_when",
    "caution",
    "screening",
    "cautions",
    "citations",
    # Review metadata: stored on the item, exported, but not part of the content hash
    # (the hash says what clinicians see and what answers mean).
    "reviewed_on",
    "review_by",
)


CHOICE_KINDS = {ItemKind.SINGLE_CHOICE, ItemKind.MULTI_CHOICE}
SLUG = re.compile(r"[a-z0-9][a-z0-9_]*")


def canonical_sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": section["key"],
            "title": section["title"],
            "intro": section.get("intro", ""),
            "items": [
                {
                    "key": item["key"],
                    "prompt": item["prompt"],
                    "help_text": item.get("help_text", ""),
                    "kind": item["kind"],
                    "options": item.get("options") or [],
                    "required": bool(item.get("required", True)),
                    "show_when": item.get("show_when"),
                    "caution": item.get("caution"),
                    "screening": item.get("screening"),
                    "cautions": item.get("cautions") or [],
                    "citations": [
                        {"source": c["source"], "locator": c.get("locator", "")}
                        for c in item.get("citations", [])
                    ],
                }
                for item in section["items"]
            ],
        }
        for section in data["sections"]
    ]


def content_hash(sections: list[dict[str, Any]]) -> str:
    blob = json.dumps(sections, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ContentError(
            f"{path.name}: not valid JSON at line {error.lineno}: {error.msg}"
        ) from None


def dump_json(data: Any) -> str:
    """The one way content files are written: stable, readable, newline-terminated."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse_json(text: str, name: str = "file") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ContentError(
            f"{name}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None


# The checks below are shared with the sources list and the bundle (bundle.py), so that
# every content file is refused in the same words.


def _check_date(mapping: dict, key: str, where: str) -> None:
    value = mapping.get(key)
    if value is None:
        return
    try:
        datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ContentError(f"{where}: {key!r} must be an ISO date (YYYY-MM-DD) or null") from None


CAUTION_FIELDS = {"when", "severity", "advice", "title", "problem"}


def _check_item_shape(item: dict, where: str) -> None:
    """Types of one item's fields, so that a malformed file fails with the key at fault."""
    if set(item) - set(ITEM_FIELDS):
        raise ContentError(f"{where}: unknown keys {sorted(set(item) - set(ITEM_FIELDS))}")
    if not SLUG.fullmatch(item["key"]) or len(item["key"]) > 60:
        raise ContentError(f"{where}: 'key' must be lowercase letters, digits and _ (60 at most)")
    check_text(item, "prompt", where, max_length=300)
    check_text(item, "help_text", where, required=False)
    _check_item_json(item, where)
    check_type(item.get("required", True), bool, where, "'required'")
    check_type(item.get("citations") or [], list, where, "'citations'")
    for c_index, citation in enumerate(item.get("citations") or []):
        at = f"{where}.citations[{c_index}]"
        check_type(citation, dict, at, "a citation")
        if set(citation) - {"source", "locator"}:
            raise ContentError(f"{at}: a citation has 'source' and 'locator'")
        check_text(citation, "locator", at, max_length=300, required=False)
    _check_date(item, "reviewed_on", where)
    _check_date(item, "review_by", where)


def _check_simple_condition(condition: dict, where: str) -> None:
    if set(condition) - {"item", "op", "value"} or "item" not in condition:
        raise ContentError(f"{where}: 'show_when' has 'item', 'op' and 'value'")
    check_type(condition["item"], str, where, "'show_when.item'")
    if condition.get("op") not in OPERATORS:
        raise ContentError(f"{where}: unknown show_when operator {condition.get('op')!r}")
    if condition["op"] == "in":
        check_type(condition.get("value"), list, where, "'show_when.value' with 'in'")


def _check_item_json(item: dict, where: str) -> None:
    """The item's JSON fields: options, show_when, caution, screening and cautions."""
    check_type(item.get("cautions") or [], list, where, "'cautions'")
    for tag in item.get("cautions") or []:
        check_type(tag, str, where, "each of 'cautions'")
    check_type(item.get("options") or [], list, where, "'options'")
    for o_index, option in enumerate(item.get("options") or []):
        at = f"{where}.options[{o_index}]"
        check_type(option, dict, at, "an option")
        if set(option) != {"code", "label"}:
            raise ContentError(f"{at}: an option has exactly 'code' and 'label'")
        check_text(option, "code", at, max_length=60)
        check_text(option, "label", at, max_length=300)
    condition = item.get("show_when")
    if condition is not None:
        check_type(condition, dict, where, "'show_when'")
        if "all" in condition:
            if set(condition) != {"all"}:
                raise ContentError(f"{where}: 'show_when' with 'all' has nothing else")
            check_type(condition["all"], list, where, "'show_when.all'")
            if len(condition["all"]) < 2:
                raise ContentError(f"{where}: 'show_when.all' joins two or more conditions")
            for part in condition["all"]:
                check_type(part, dict, where, "each of 'show_when.all'")
                _check_simple_condition(part, where)
        else:
            _check_simple_condition(condition, where)
    caution = item.get("caution")
    if caution is not None:
        check_type(caution, dict, where, "'caution'")
        if not {"when", "severity", "advice"} <= set(caution) <= CAUTION_FIELDS:
            raise ContentError(
                f"{where}: 'caution' has 'when', 'severity' and 'advice', and may have "
                "'title' and 'problem'"
            )
        check_type(caution["when"], list, where, "'caution.when'")
        for code in caution["when"]:
            check_type(code, str, where, "each of 'caution.when'")
        if caution["severity"] not in Severity.values:
            raise ContentError(f"{where}: unknown caution severity {caution['severity']!r}")
        check_text(caution, "advice", f"{where}.caution")
        check_text(caution, "title", f"{where}.caution", max_length=200, required=False)
        check_text(caution, "problem", f"{where}.caution", max_length=60, required=False)
        if is_question(caution.get("title")):
            raise ContentError(
                f"{where}: the caution's title ends with '?'; state the problem instead"
            )
    screening = item.get("screening")
    if screening is not None:
        check_type(screening, dict, where, "'screening'")
        check_type(screening.get("map", {}), dict, where, "'screening.map'")
        for agent in screening["map"].values() if "map" in screening else ():
            check_type(agent, str, where, "each of 'screening.map'")


def item_json_problem(item: dict[str, Any]) -> str | None:
    """What is wrong with an item's JSON fields, in the words a content file gets, or None:
    the admin's item form asks this, so that an item typed there has the shape the
    checklist pages, the diff and the checks read (a wrong one there would be a 500)."""
    try:
        _check_item_json(item, "This item")
        codes = [option["code"] for option in item.get("options") or []]
        check_screening(item.get("screening"), codes, "This item")
    except ContentError as error:
        return str(error)
    return None


def validate_template_data(data: dict[str, Any], source_keys: set[str]) -> None:
    """Refuse a malformed checklist file before anything is written.

    Every message names the key at fault (`sections[1].items[3]` or `item 'age_band'`)."""
    _check_top_level(data)
    seen: set[str] = set()
    section_keys: set[str] = set()
    for s_index, section in enumerate(data["sections"]):
        where = f"sections[{s_index}]"
        _check_section(section, where, section_keys)
        for i_index, item in enumerate(section["items"]):
            _check_item(item, f"{where}.items[{i_index}]", seen, source_keys)
            seen.add(item["key"])


def _check_top_level(data: dict[str, Any]) -> None:
    """The file's top-level keys and its `template` block."""
    check_type(data, dict, "checklist", "the checklist")
    for key in ("template", "sections"):
        if key not in data:
            raise ContentError(f"missing top-level key {key!r}")
    unknown = set(data) - {"template", "sections", "change_summary"}
    if unknown:
        raise ContentError(f"unknown top-level keys {sorted(unknown)}")
    meta = data["template"]
    check_type(meta, dict, "template", "'template'")
    check_text(meta, "slug", "template", max_length=80)
    if not SLUG.fullmatch(meta["slug"].replace("-", "_")):
        raise ContentError("template: 'slug' must be lowercase letters, digits, - and _")
    check_text(meta, "title", "template", max_length=200)
    check_text(meta, "canonical_url", "template", max_length=300)
    if not meta["canonical_url"].startswith(("https://", "http://")):
        raise ContentError("template: 'canonical_url' must be an absolute http(s) URL")
    check_text(meta, "description", "template", required=False)
    if "change_summary" in data:
        check_type(data["change_summary"], str, "change_summary", "'change_summary'")
    check_type(data["sections"], list, "sections", "'sections'")
    if not data["sections"]:
        raise ContentError("sections: a checklist has at least one section")


def _check_section(section: Any, where: str, section_keys: set[str]) -> None:
    """One section's own fields; adds its key to `section_keys` (keys must not repeat)."""
    check_type(section, dict, where, "a section")
    for key in ("key", "title", "items"):
        if key not in section:
            raise ContentError(f"{where}: missing {key!r}")
    if set(section) - {"key", "title", "intro", "items"}:
        raise ContentError(
            f"{where}: unknown keys {sorted(set(section) - {'key', 'title', 'intro', 'items'})}"
        )
    check_text(section, "key", where, max_length=60)
    if not SLUG.fullmatch(section["key"]):
        raise ContentError(f"{where}: 'key' must be lowercase letters, digits and _")
    if section["key"] in section_keys:
        raise ContentError(f"{where}: section key {section['key']!r} repeats")
    section_keys.add(section["key"])
    check_text(section, "title", where, max_length=200)
    check_text(section, "intro", where, required=False)
    check_type(section["items"], list, where, "'items'")


def _check_item(item: Any, where: str, seen: set[str], source_keys: set[str]) -> None:
    """One item, against the items before it (`seen`) and the known sources."""
    check_type(item, dict, where, "an item")
    for key in ("key", "prompt", "kind"):
        if key not in item:
            raise ContentError(f"{where}: missing {key!r}")
    check_type(item["key"], str, where, "'key'")
    _check_item_shape(item, where)
    # From here on the item has a valid key: messages name it rather than its position.
    where = f"item {item['key']!r}"
    if item["key"] in seen:
        raise ContentError(f"{where}: key repeats")
    if item["kind"] not in set(ItemKind.values):
        raise ContentError(f"{where}: unknown kind {item['kind']!r}")
    if any(key not in seen for key in condition_items(item.get("show_when"))):
        raise ContentError(f"{where}: show_when refers to a missing or later item")
    codes = _option_codes(item, where)
    check_screening(item.get("screening"), codes, where)
    if not item.get("citations"):
        raise ContentError(f"{where}: cites no source")
    for citation in item["citations"]:
        if citation.get("source") not in source_keys:
            raise ContentError(f"{where}: unknown source {citation.get('source')!r}")


def _option_codes(item: dict, where: str) -> list[str]:
    """The item's option codes: unique, present on choice items and only on them."""
    codes = [o["code"] for o in item.get("options") or []]
    if len(codes) != len(set(codes)):
        raise ContentError(f"{where}: option codes repeat")
    if item["kind"] in CHOICE_KINDS and not codes:
        raise ContentError(f"{where}: a {item['kind']} item needs options")
    if item["kind"] not in CHOICE_KINDS and codes:
        raise ContentError(f"{where}: only single_choice and multi_choice items have options")
    return codes


def version_data(version: TemplateVersion) -> dict[str, Any]:
    """One version as a checklist file (the shape `load_template` reads), in 3 queries."""
    sections = list(version.sections.order_by("position"))
    items = list(Item.objects.filter(version=version).order_by("position"))
    cited: dict[int, list[dict[str, str]]] = {}
    rows = Citation.objects.filter(item__version=version).select_related("source").order_by("id")
    for citation in rows:
        cited.setdefault(citation.item_id, []).append(
            {"source": citation.source.key, "locator": citation.locator}
        )
    template = version.template
    return {
        "template": {
            "slug": template.slug,
            "title": template.title,
            "canonical_url": template.canonical_url,
            "description": template.description,
        },
        "change_summary": version.change_summary,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "intro": section.intro,
                "items": [
                    {
                        "key": item.key,
                        "prompt": item.prompt,
                        "help_text": item.help_text,
                        "kind": item.kind,
                        "options": item.options or [],
                        "required": item.required,
                        "show_when": item.show_when,
                        "caution": item.caution,
                        "screening": item.screening,
                        "cautions": item.caution_tags or [],
                        "citations": cited.get(item.id, []),
                        "reviewed_on": _iso(item.reviewed_on),
                        "review_by": _iso(item.review_by),
                    }
                    for item in items
                    if item.section_id == section.id
                ],
            }
            for section in sections
        ],
    }


def version_hash(version: TemplateVersion) -> str:
    """The content hash of a version as stored now (the same for the same content)."""
    return content_hash(canonical_sections(version_data(version)))


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None
