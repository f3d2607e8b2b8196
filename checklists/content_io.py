"""Reading checklist content from data files into versioned rows.

A version's content hash is the SHA-256 of its canonical JSON (sorted keys, no spaces),
so the same content always gets the same hash, and loading a file whose content is
already stored changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import (
    Agent,
    ChecklistTemplate,
    Citation,
    InteractionRule,
    Item,
    ItemKind,
    Jurisdiction,
    LabLimit,
    LegalStatus,
    Section,
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


def validate_template_data(data: dict[str, Any], source_keys: set[str]) -> None:
    """Refuse a malformed checklist file before anything is written."""
    for key in ("template", "sections"):
        if key not in data:
            raise ContentError(f"missing top-level key {key!r}")
    seen: set[str] = set()
    kinds = set(ItemKind.values)
    for s_index, section in enumerate(data["sections"]):
        for key in ("key", "title", "items"):
            if key not in section:
                raise ContentError(f"sections[{s_index}]: missing {key!r}")
        for i_index, item in enumerate(section["items"]):
            where = f"sections[{s_index}].items[{i_index}]"
            for key in ("key", "prompt", "kind"):
                if key not in item:
                    raise ContentError(f"{where}: missing {key!r}")
            where = f"item {item['key']!r}"
            if set(item) - set(ITEM_FIELDS):
                raise ContentError(f"{where}: unknown keys {sorted(set(item) - set(ITEM_FIELDS))}")
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
                reviewed_on=timezone.localdate(),
            )
            Citation.objects.bulk_create(
                Citation(item=item, source=sources[c["source"]], locator=c["locator"])
                for c in item_data["citations"]
            )
    if first:
        version.status = TemplateVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
    return version, True


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
