"""Reading checklist content from data files into versioned rows.

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

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import audit
from .conditions import OPERATORS
from .models import (
    Agent,
    AuditEvent,
    ChecklistTemplate,
    Citation,
    InteractionRule,
    Item,
    ItemKind,
    Jurisdiction,
    LabLimit,
    LegalStatus,
    Section,
    Severity,
    Source,
    Substance,
    SubstanceAlias,
    TemplateVersion,
    VariabilityRule,
    normalise_name,
)

CONTENT_DIR = Path(__file__).resolve().parent / "content"
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


SCREENING_ROLES = {
    "substances",
    "factors",
    "medications",
    "jurisdiction",
    "products",
    "legal_check_source",
    "legal_check_date",
}
CHOICE_KINDS = {ItemKind.SINGLE_CHOICE, ItemKind.MULTI_CHOICE}
SLUG = re.compile(r"[a-z0-9][a-z0-9_]*")


class ContentError(ValueError):
    """A content file is malformed; the message names the key at fault."""


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


def _check_type(value: Any, types: type | tuple, where: str, what: str) -> None:
    if not isinstance(value, types) or (types is int and isinstance(value, bool)):
        names = " or ".join(
            {
                dict: "an object",
                list: "a list",
                str: "text",
                bool: "true or false",
                int: "a whole number",
            }.get(t, t.__name__)
            for t in (types if isinstance(types, tuple) else (types,))
        )
        raise ContentError(f"{where}: {what} must be {names}")


def _check_text(mapping: dict, key: str, where: str, *, max_length: int = 0, required=True) -> None:
    if key not in mapping:
        if required:
            raise ContentError(f"{where}: missing {key!r}")
        return
    _check_type(mapping[key], str, where, repr(key))
    if required and not mapping[key].strip():
        raise ContentError(f"{where}: {key!r} is empty")
    if max_length and len(mapping[key]) > max_length:
        raise ContentError(f"{where}: {key!r} is longer than {max_length} characters")


def _check_date(mapping: dict, key: str, where: str) -> None:
    value = mapping.get(key)
    if value is None:
        return
    try:
        datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ContentError(f"{where}: {key!r} must be an ISO date (YYYY-MM-DD) or null") from None


def _check_item_shape(item: dict, where: str) -> None:
    """Types of one item's fields, so that a malformed file fails with the key at fault."""
    if set(item) - set(ITEM_FIELDS):
        raise ContentError(f"{where}: unknown keys {sorted(set(item) - set(ITEM_FIELDS))}")
    if not SLUG.fullmatch(item["key"]) or len(item["key"]) > 60:
        raise ContentError(f"{where}: 'key' must be lowercase letters, digits and _ (60 at most)")
    _check_text(item, "prompt", where, max_length=300)
    _check_text(item, "help_text", where, required=False)
    _check_type(item.get("options") or [], list, where, "'options'")
    for o_index, option in enumerate(item.get("options") or []):
        at = f"{where}.options[{o_index}]"
        _check_type(option, dict, at, "an option")
        if set(option) != {"code", "label"}:
            raise ContentError(f"{at}: an option has exactly 'code' and 'label'")
        _check_text(option, "code", at, max_length=60)
        _check_text(option, "label", at, max_length=300)
    _check_type(item.get("required", True), bool, where, "'required'")
    condition = item.get("show_when")
    if condition is not None:
        _check_type(condition, dict, where, "'show_when'")
        if set(condition) - {"item", "op", "value"} or "item" not in condition:
            raise ContentError(f"{where}: 'show_when' has 'item', 'op' and 'value'")
        if condition.get("op") not in OPERATORS:
            raise ContentError(f"{where}: unknown show_when operator {condition.get('op')!r}")
    caution = item.get("caution")
    if caution is not None:
        _check_type(caution, dict, where, "'caution'")
        if set(caution) != {"when", "severity", "advice"}:
            raise ContentError(f"{where}: 'caution' has exactly 'when', 'severity' and 'advice'")
        _check_type(caution["when"], list, where, "'caution.when'")
        if caution["severity"] not in Severity.values:
            raise ContentError(f"{where}: unknown caution severity {caution['severity']!r}")
        _check_text(caution, "advice", f"{where}.caution")
    _check_type(item.get("cautions") or [], list, where, "'cautions'")
    screening = item.get("screening")
    if screening is not None:
        _check_type(screening, dict, where, "'screening'")
    _check_type(item.get("citations") or [], list, where, "'citations'")
    for c_index, citation in enumerate(item.get("citations") or []):
        at = f"{where}.citations[{c_index}]"
        _check_type(citation, dict, at, "a citation")
        if set(citation) - {"source", "locator"}:
            raise ContentError(f"{at}: a citation has 'source' and 'locator'")
        _check_text(citation, "locator", at, max_length=300, required=False)
    _check_date(item, "reviewed_on", where)
    _check_date(item, "review_by", where)


def validate_template_data(data: dict[str, Any], source_keys: set[str]) -> None:
    """Refuse a malformed checklist file before anything is written.

    Every message names the key at fault (`sections[1].items[3]` or `item 'age_band'`)."""
    _check_type(data, dict, "checklist", "the checklist")
    for key in ("template", "sections"):
        if key not in data:
            raise ContentError(f"missing top-level key {key!r}")
    unknown = set(data) - {"template", "sections", "change_summary"}
    if unknown:
        raise ContentError(f"unknown top-level keys {sorted(unknown)}")
    meta = data["template"]
    _check_type(meta, dict, "template", "'template'")
    _check_text(meta, "slug", "template", max_length=80)
    if not SLUG.fullmatch(meta["slug"].replace("-", "_")):
        raise ContentError("template: 'slug' must be lowercase letters, digits, - and _")
    _check_text(meta, "title", "template", max_length=200)
    _check_text(meta, "canonical_url", "template", max_length=300)
    if not meta["canonical_url"].startswith(("https://", "http://")):
        raise ContentError("template: 'canonical_url' must be an absolute http(s) URL")
    _check_text(meta, "description", "template", required=False)
    if "change_summary" in data:
        _check_type(data["change_summary"], str, "change_summary", "'change_summary'")
    _check_type(data["sections"], list, "sections", "'sections'")
    if not data["sections"]:
        raise ContentError("sections: a checklist has at least one section")
    seen: set[str] = set()
    section_keys: set[str] = set()
    kinds = set(ItemKind.values)
    for s_index, section in enumerate(data["sections"]):
        where = f"sections[{s_index}]"
        _check_type(section, dict, where, "a section")
        for key in ("key", "title", "items"):
            if key not in section:
                raise ContentError(f"{where}: missing {key!r}")
        if set(section) - {"key", "title", "intro", "items"}:
            raise ContentError(
                f"{where}: unknown keys {sorted(set(section) - {'key', 'title', 'intro', 'items'})}"
            )
        _check_text(section, "key", where, max_length=60)
        if not SLUG.fullmatch(section["key"]):
            raise ContentError(f"{where}: 'key' must be lowercase letters, digits and _")
        if section["key"] in section_keys:
            raise ContentError(f"{where}: section key {section['key']!r} repeats")
        section_keys.add(section["key"])
        _check_text(section, "title", where, max_length=200)
        _check_text(section, "intro", where, required=False)
        _check_type(section["items"], list, where, "'items'")
        for i_index, item in enumerate(section["items"]):
            where = f"sections[{s_index}].items[{i_index}]"
            _check_type(item, dict, where, "an item")
            for key in ("key", "prompt", "kind"):
                if key not in item:
                    raise ContentError(f"{where}: missing {key!r}")
            _check_type(item["key"], str, where, "'key'")
            _check_item_shape(item, where)
            where = f"item {item['key']!r}"
            if item["key"] in seen:
                raise ContentError(f"{where}: key repeats")
            if item["kind"] not in kinds:
                raise ContentError(f"{where}: unknown kind {item['kind']!r}")
            condition = item.get("show_when")
            if condition and condition.get("item") not in seen:
                raise ContentError(f"{where}: show_when refers to a missing or later item")
            codes = [o["code"] for o in item.get("options") or []]
            if len(codes) != len(set(codes)):
                raise ContentError(f"{where}: option codes repeat")
            if item["kind"] in CHOICE_KINDS and not codes:
                raise ContentError(f"{where}: a {item['kind']} item needs options")
            if item["kind"] not in CHOICE_KINDS and codes:
                raise ContentError(
                    f"{where}: only single_choice and multi_choice items have options"
                )
            screening = item.get("screening")
            if screening is not None:
                if screening.get("role") not in SCREENING_ROLES:
                    raise ContentError(f"{where}: unknown screening role {screening.get('role')!r}")
                unknown = set(screening.get("map", {})) - set(codes or ["yes", "no", "unknown"])
                if unknown:
                    raise ContentError(f"{where}: screening maps unknown codes {sorted(unknown)}")
                allowed = {
                    "substances": set(Agent.values),
                    "factors": set(VariabilityRule.Factor.values),
                }.get(screening["role"])
                if allowed is not None and set(screening.get("map", {}).values()) - allowed:
                    raise ContentError(f"{where}: screening maps to unknown agents or factors")
            if not item.get("citations"):
                raise ContentError(f"{where}: cites no source")
            for citation in item["citations"]:
                if citation.get("source") not in source_keys:
                    raise ContentError(f"{where}: unknown source {citation.get('source')!r}")
            seen.add(item["key"])


def load_sources(rows: list[dict[str, Any]]) -> int:
    """Insert or update sources by key; returns how many rows changed."""
    changed = 0
    existing = {s.key: s for s in Source.objects.all()}
    for row in rows:
        values = {
            "title": row["title"],
            "publisher": row.get("publisher", ""),
            "year": row.get("year"),
            "url": row.get("url", ""),
            "kind": row["kind"],
        }
        source = existing.get(row["key"])
        if source is None:
            existing[row["key"]] = Source.objects.create(key=row["key"], **values)
            changed += 1
        elif any(getattr(source, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(source, k, v)
            source.save()
            changed += 1
    return changed


@transaction.atomic
def load_template(data: dict[str, Any], *, author=None) -> tuple[TemplateVersion, bool]:
    """Store a checklist file as a version; returns (version, created).

    Content already stored (same hash, any status) is not stored again. The first version
    of a template is published at once so a new installation can be used; every later
    change becomes a draft for editors to review and publish.
    """
    sources = {s.key: s for s in Source.objects.all()}
    validate_template_data(data, set(sources))
    sections = canonical_sections(data)
    digest = content_hash(sections)
    meta = data["template"]
    template, _ = ChecklistTemplate.objects.get_or_create(
        slug=meta["slug"],
        defaults={
            "title": meta["title"],
            "description": meta.get("description", ""),
            "canonical_url": meta["canonical_url"],
        },
    )
    stored = template.versions.filter(content_hash=digest).first()
    if stored is not None:
        return stored, False
    first = not template.versions.exists()
    last = template.versions.order_by("-number").first()
    version = TemplateVersion.objects.create(
        template=template,
        number=(last.number + 1) if last else 1,
        content_hash=digest,
        change_summary=data.get("change_summary", ""),
        author=author,
    )
    # Review dates travel with exported files; a file without them (the default content)
    # counts as reviewed on the day it is loaded.
    review = {
        item["key"]: (
            _as_date(item["reviewed_on"]) if "reviewed_on" in item else timezone.localdate(),
            _as_date(item.get("review_by")),
        )
        for section in data["sections"]
        for item in section["items"]
    }
    citations = []
    for s_pos, section_data in enumerate(sections, start=1):
        section = Section.objects.create(
            version=version,
            key=section_data["key"],
            title=section_data["title"],
            intro=section_data["intro"],
            position=s_pos,
        )
        for i_pos, item_data in enumerate(section_data["items"], start=1):
            item = Item.objects.create(
                version=version,
                section=section,
                position=i_pos,
                key=item_data["key"],
                prompt=item_data["prompt"],
                help_text=item_data["help_text"],
                kind=item_data["kind"],
                options=item_data["options"],
                required=item_data["required"],
                show_when=item_data["show_when"],
                caution=item_data["caution"],
                caution_tags=item_data["cautions"],
                screening=item_data["screening"],
                reviewed_on=review[item_data["key"]][0],
                review_by=review[item_data["key"]][1],
            )
            citations += [
                Citation(item=item, source=sources[c["source"]], locator=c["locator"])
                for c in item_data["citations"]
            ]
    bulk_create_with_history(citations, Citation)
    if first:
        version.status = TemplateVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
        audit.record(
            AuditEvent.Action.CONTENT_PUBLISHED,
            user=author,
            obj=version,
            detail={
                "template": template.slug,
                "version": version.number,
                "content_hash": digest,
                "first_version": True,
            },
        )
    return version, True


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


# The file `export_content` writes and `import_content` reads.
BUNDLE_FORMAT = "kratom-melatonin-checklists/content"
BUNDLE_FORMAT_VERSION = 1
SOURCE_FIELDS = ("key", "title", "publisher", "year", "url", "kind")


def export_bundle(versions: list[TemplateVersion]) -> dict[str, Any]:
    """The given versions and every source they cite, in a stable order.

    Nothing in it depends on database ids, dates of loading or version numbers, so
    importing it into an empty database and exporting again gives the same bytes.
    """
    checklists = [version_data(v) for v in sorted(versions, key=lambda v: v.template.slug)]
    keys = {
        c["source"]
        for checklist in checklists
        for section in checklist["sections"]
        for item in section["items"]
        for c in item["citations"]
    }
    sources = Source.objects.filter(key__in=keys).order_by("key")
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "sources": [{f: getattr(s, f) for f in SOURCE_FIELDS} for s in sources],
        "checklists": checklists,
    }


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


def validate_sources_data(rows: Any) -> None:
    _check_type(rows, list, "sources", "'sources'")
    kinds = set(Source.Kind.values)
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"sources[{index}]"
        _check_type(row, dict, where, "a source")
        if set(row) - set(SOURCE_FIELDS):
            raise ContentError(f"{where}: unknown keys {sorted(set(row) - set(SOURCE_FIELDS))}")
        _check_text(row, "key", where, max_length=80)
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", row["key"]):
            raise ContentError(f"{where}: 'key' must be lowercase letters, digits and hyphens")
        if row["key"] in seen:
            raise ContentError(f"{where}: source key {row['key']!r} repeats")
        seen.add(row["key"])
        _check_text(row, "title", where, max_length=400)
        _check_text(row, "publisher", where, max_length=200, required=False)
        _check_text(row, "url", where, max_length=500, required=False)
        if row.get("year") is not None:
            _check_type(row["year"], int, where, "'year'")
        if row.get("kind") not in kinds:
            raise ContentError(f"{where}: unknown kind {row.get('kind')!r}")


def checklists_in(data: Any) -> tuple[list[dict], list[dict]]:
    """(sources, checklists) of an export bundle or of a single checklist file."""
    _check_type(data, dict, "file", "the top level")
    if "template" in data:  # a single checklist file such as default_checklist.json
        return [], [data]
    if data.get("format") != BUNDLE_FORMAT:
        raise ContentError(f"'format' must be {BUNDLE_FORMAT!r} (or give a single checklist)")
    if data.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise ContentError(f"'format_version' must be {BUNDLE_FORMAT_VERSION}")
    unknown = set(data) - {"format", "format_version", "sources", "checklists"}
    if unknown:
        raise ContentError(f"unknown top-level keys {sorted(unknown)}")
    for key in ("sources", "checklists"):
        if key not in data:
            raise ContentError(f"missing top-level key {key!r}")
    _check_type(data["checklists"], list, "checklists", "'checklists'")
    return data["sources"], data["checklists"]


@transaction.atomic
def import_bundle(data: Any, *, author=None) -> list[tuple[TemplateVersion, bool]]:
    """Import an exported file: sources (by key), then each checklist as `load_template`
    does (a new template's first version is published; a changed one becomes a draft).

    Everything is checked before anything is written, and all of it runs in one
    transaction: a malformed file leaves the database as it was.
    """
    sources, checklists = checklists_in(data)
    validate_sources_data(sources)
    known = set(Source.objects.values_list("key", flat=True)) | {s["key"] for s in sources}
    slugs: set[str] = set()
    for index, checklist in enumerate(checklists):
        try:
            validate_template_data(checklist, known)
        except ContentError as error:
            prefix = f"checklists[{index}]: " if len(checklists) > 1 or sources else ""
            raise ContentError(f"{prefix}{error}") from None
        if checklist["template"]["slug"] in slugs:
            raise ContentError(f"checklists[{index}]: template slug repeats")
        slugs.add(checklist["template"]["slug"])
    load_sources(sources)
    results = [load_template(checklist, author=author) for checklist in checklists]
    audit.record(
        AuditEvent.Action.CONTENT_IMPORTED,
        user=author,
        detail={
            "sources": len(sources),
            "versions": [
                {"template": v.template.slug, "version": v.number, "created": created}
                for v, created in results
            ],
        },
    )
    return results


def _set_sources(row, keys: list[str], sources: dict[str, Source], where: str) -> None:
    missing = [k for k in keys if k not in sources]
    if missing:
        raise ContentError(f"{where}: unknown source(s) {missing}")
    if not keys:
        raise ContentError(f"{where}: cites no source")
    if {s.key for s in row.sources.all()} != set(keys):
        row.sources.set([sources[k] for k in keys])


def _upsert(model, lookup: dict[str, Any], values: dict[str, Any]):
    row = model.objects.filter(**lookup).first()
    if row is None:
        return model.objects.create(**lookup, **values), True
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, values[name])
        row.save(update_fields=changed)
    return row, bool(changed)


def _as_date(value: str | None):
    return datetime.date.fromisoformat(value) if value else None


@transaction.atomic
def load_knowledge(directory: Path = CONTENT_DIR / "knowledge") -> int:
    """Insert or update substances, names, classes and rules; returns rows changed.

    Idempotent: a second run with the same files changes nothing.
    """
    substances_data = read_json(directory / "substances.json")
    sources = {s.key: s for s in Source.objects.all()}
    changed = 0
    by_key: dict[str, Substance] = {}
    for row in substances_data:
        substance, did = _upsert(
            Substance, {"key": row["key"]}, {"name": row["name"], "kind": row["kind"]}
        )
        by_key[row["key"]] = substance
        changed += did
    taken = {}
    for row in substances_data:
        substance = by_key[row["key"]]
        names = [row["name"], *row.get("aliases", [])]
        wanted = {normalise_name(n): n for n in names}
        for normalised in wanted:
            if taken.setdefault(normalised, row["key"]) != row["key"]:
                raise ContentError(
                    f"substance {row['key']!r}: name {normalised!r} already belongs to "
                    f"{taken[normalised]!r}"
                )
        have = {a.normalised: a for a in substance.aliases.all()}
        stale = [a.pk for n, a in have.items() if n not in wanted]
        if stale:
            SubstanceAlias.objects.filter(pk__in=stale).delete()
            changed += len(stale)
        for normalised, name in wanted.items():
            if normalised not in have:
                SubstanceAlias.objects.filter(normalised=normalised).delete()
                SubstanceAlias.objects.create(substance=substance, name=name)
                changed += 1
        missing = [k for k in row.get("classes", []) if k not in by_key]
        if missing:
            raise ContentError(f"substance {row['key']!r}: unknown class(es) {missing}")
        classes = {by_key[k] for k in row.get("classes", [])}
        if set(substance.classes.all()) != classes:
            substance.classes.set(classes)
            changed += 1
    for row in read_json(directory / "interactions.json"):
        if row["target"] not in by_key:
            raise ContentError(f"rule {row['code']!r}: unknown target {row['target']!r}")
        rule, did = _upsert(
            InteractionRule,
            {"code": row["code"]},
            {
                "agent": row["agent"],
                "target": by_key[row["target"]],
                "severity": row["severity"],
                "likelihood": row["likelihood"],
                "evidence": row.get("evidence", ""),
                "title": row["title"],
                "mechanism": row["mechanism"],
                "advice": row["advice"],
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(rule, row["sources"], sources, f"rule {row['code']!r}")
        changed += did
    for row in read_json(directory / "variability.json"):
        rule, did = _upsert(
            VariabilityRule,
            {"code": row["code"]},
            {
                "factor": row["factor"],
                "agent": row["agent"],
                "severity": row["severity"],
                "evidence": row.get("evidence", ""),
                "title": row["title"],
                "advice": row["advice"],
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(rule, row["sources"], sources, f"rule {row['code']!r}")
        changed += did
    return changed


@transaction.atomic
def load_legal(directory: Path = CONTENT_DIR / "legal") -> int:
    """Insert or update jurisdictions and legal-status rows; returns rows changed.

    A status row is identified by jurisdiction, substance and effective-from date, so a
    new law is a new row and an old row keeps its history.
    """
    sources = {s.key: s for s in Source.objects.all()}
    changed = 0
    places: dict[str, Jurisdiction] = {}
    for row in read_json(directory / "jurisdictions.json"):
        parent = places.get(row["parent"]) if row.get("parent") else None
        if row.get("parent") and parent is None:
            raise ContentError(
                f"jurisdiction {row['code']!r}: parent {row['parent']!r} must be listed before it"
            )
        place, did = _upsert(
            Jurisdiction,
            {"code": row["code"]},
            {"name": row["name"], "kind": row["kind"], "parent": parent},
        )
        places[row["code"]] = place
        changed += did
    for row in read_json(directory / "statuses.json"):
        where = f"legal row {row['jurisdiction']}/{row['substance']}/{row.get('effective_from')}"
        if row["jurisdiction"] not in places:
            raise ContentError(f"{where}: unknown jurisdiction")
        status, did = _upsert(
            LegalStatus,
            {
                "jurisdiction": places[row["jurisdiction"]],
                "substance": row["substance"],
                "effective_from": _as_date(row.get("effective_from")),
            },
            {
                "status": row["status"],
                "minimum_age": row.get("minimum_age"),
                "seven_oh_rule": row.get("seven_oh_rule", ""),
                "effective_to": _as_date(row.get("effective_to")),
                "summary": row["summary"],
                "verified_on": _as_date(row["verified_on"]),
                "verified_by": row["verified_by"],
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(status, row["sources"], sources, where)
        changed += did
    return changed


@transaction.atomic
def load_lab_limits(path: Path = CONTENT_DIR / "lab" / "limits.json") -> int:
    sources = {s.key: s for s in Source.objects.all()}
    changed = 0
    for row in read_json(path):
        limit, did = _upsert(
            LabLimit,
            {"substance": row["substance"], "analyte": row["analyte"]},
            {
                "label": row["label"],
                "comparison": row["comparison"],
                "limit": row.get("limit"),
                "unit": row.get("unit", ""),
                "required": row.get("required", True),
                "severity_on_fail": row["severity_on_fail"],
                "summary": row.get("summary", ""),
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(limit, row["sources"], sources, f"lab limit {row['analyte']!r}")
        changed += did
    return changed
