"""The content data files into rows: a checklist as a version, and the knowledge, legal
and lab-limit tables.

Every loader is idempotent (a second run with the same data changes nothing) and runs in
one transaction. `load_default_content` calls them on the files in `checklists/content/`
(`default_checklist.json`, `knowledge/`, `legal/`, `lab/limits.json`); `import_bundle`
(bundle.py) calls `load_template` for each checklist of an imported file.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .. import audit
from ..models import (
    AuditEvent,
    ChecklistTemplate,
    Citation,
    InteractionRule,
    Item,
    Jurisdiction,
    LabLimit,
    LegalStatus,
    Problem,
    Section,
    Source,
    Substance,
    SubstanceAlias,
    TemplateVersion,
    VariabilityRule,
    normalise_name,
)
from .files import (
    CONTENT_DIR,
    ContentError,
    canonical_sections,
    content_hash,
    read_json,
    validate_template_data,
)
from .lab_rows import check_lab_limit, seven_oh_limit


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
    _create_sections(version, sections, _review_dates(data), sources)
    if first:
        _publish_first(version, author)
    return version, True


def _review_dates(data: dict[str, Any]) -> dict[str, tuple[datetime.date, datetime.date | None]]:
    """(reviewed_on, review_by) by item key.

    Review dates travel with exported files; a file without them (the default content)
    counts as reviewed on the day it is loaded.
    """
    return {
        item["key"]: (
            _as_date(item["reviewed_on"]) if "reviewed_on" in item else timezone.localdate(),
            _as_date(item.get("review_by")),
        )
        for section in data["sections"]
        for item in section["items"]
    }


def _create_sections(
    version: TemplateVersion,
    sections: list[dict[str, Any]],
    review: dict[str, tuple[datetime.date, datetime.date | None]],
    sources: dict[str, Source],
) -> None:
    """The version's sections, items and citations, from its canonical sections."""
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


def _publish_first(version: TemplateVersion, author) -> None:
    """Publish a template's first version at once, and record it in the audit log."""
    version.status = TemplateVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    audit.record(
        AuditEvent.Action.CONTENT_PUBLISHED,
        user=author,
        obj=version,
        detail={
            "template": version.template.slug,
            "version": version.number,
            "content_hash": version.content_hash,
            "first_version": True,
        },
    )


def record_loaded(**counts: Any) -> None:
    """The deploy's loader writes the knowledge directly, not through a proposal (its data
    files are the reviewed copy, README in content/): the audit trail says when, and how
    many rows each table changed."""
    audit.record(AuditEvent.Action.CONTENT_LOADED, detail=counts)


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


def problem_of(row: dict[str, Any], problems: dict) -> Any:
    """The problem a rule row names (issue 16); every rule must name a known one."""
    key = row.get("problem")
    if key not in problems:
        raise ContentError(f"rule {row['code']!r}: unknown or missing problem {key!r}")
    return problems[key]


def _as_date(value: str | None):
    return datetime.date.fromisoformat(value) if value else None


@transaction.atomic
def load_knowledge(directory: Path = CONTENT_DIR / "knowledge") -> int:
    """Insert or update substances, names, classes and rules; returns rows changed.

    Reads `problems.json`, `substances.json`, `products.json` (issue 17),
    `interactions.json`, `variability.json` and `combinations.json` from
    `directory` (by default checklists/content/knowledge/). Idempotent: a second run
    with the same files changes nothing.
    """
    from . import catalogue, products, substances  # they reuse this module's helpers

    substances_data = read_json(directory / "substances.json")
    sources = {s.key: s for s in Source.objects.all()}
    problems, changed = catalogue.load_problems(directory, sources)
    by_key: dict[str, Substance] = {}
    # Every substance first, so that a class may be listed after its members; a class
    # cites the source that defines it and every row has a review-by date (issue 17).
    for row in substances_data:
        substance, did = _upsert(Substance, {"key": row["key"]}, substances.substance_values(row))
        by_key[row["key"]] = substance
        changed += did + substances.set_sources(substance, row, sources)
    taken: dict[str, str] = {}
    for row in substances_data:
        changed += _load_names(by_key[row["key"]], row, taken)
        changed += _load_classes(by_key[row["key"]], row, by_key)
    changed += products.load_products(directory, by_key, sources, taken)
    changed += _load_interactions(
        read_json(directory / "interactions.json"), by_key, sources, problems
    )
    changed += _load_variability(read_json(directory / "variability.json"), sources, problems)
    changed += catalogue.load_combinations(directory, by_key, problems, sources)
    return changed


def _load_names(substance: Substance, row: dict[str, Any], taken: dict[str, str]) -> int:
    """A substance's name and aliases; a normalised name belongs to one substance only."""
    changed = 0
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
    return changed


def _load_classes(substance: Substance, row: dict[str, Any], by_key: dict[str, Substance]) -> int:
    missing = [k for k in row.get("classes", []) if k not in by_key]
    if missing:
        raise ContentError(f"substance {row['key']!r}: unknown class(es) {missing}")
    classes = {by_key[k] for k in row.get("classes", [])}
    if set(substance.classes.all()) != classes:
        substance.classes.set(classes)
        return 1
    return 0


def _load_interactions(
    rows: list[dict[str, Any]],
    by_key: dict[str, Substance],
    sources: dict[str, Source],
    problems: dict,
) -> int:
    changed = 0
    for row in rows:
        if row["target"] not in by_key:
            raise ContentError(f"rule {row['code']!r}: unknown target {row['target']!r}")
        rule, did = _upsert(
            InteractionRule,
            {"code": row["code"]},
            {
                "agent": row["agent"],
                "target": by_key[row["target"]],
                "problem": problem_of(row, problems),
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
    return changed


def _load_variability(
    rows: list[dict[str, Any]], sources: dict[str, Source], problems: dict
) -> int:
    changed = 0
    for row in rows:
        rule, did = _upsert(
            VariabilityRule,
            {"code": row["code"]},
            {
                "factor": row["factor"],
                "agent": row["agent"],
                "problem": problem_of(row, problems),
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

    Reads `jurisdictions.json` and `statuses.json` from `directory` (by default
    checklists/content/legal/). A status row is identified by jurisdiction, substance and
    effective-from date, so a new law is a new row and an old row keeps its history.
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
    return changed + _load_statuses(read_json(directory / "statuses.json"), places, sources)


def _load_statuses(
    rows: list[dict[str, Any]], places: dict[str, Jurisdiction], sources: dict[str, Source]
) -> int:
    changed = 0
    for row in rows:
        where = f"legal row {row['jurisdiction']}/{row['substance']}/{row.get('effective_from')}"
        if row["jurisdiction"] not in places:
            raise ContentError(f"{where}: unknown jurisdiction")
        key = {
            "jurisdiction": places[row["jurisdiction"]],
            "substance": row["substance"],
            "effective_from": _as_date(row.get("effective_from")),
        }
        values = {
            "status": row["status"],
            "minimum_age": row.get("minimum_age"),
            "seven_oh_rule": row.get("seven_oh_rule", ""),
            **seven_oh_limit(row, where),
            "effective_to": _as_date(row.get("effective_to")),
            "summary": row["summary"],
            "verified_on": _as_date(row["verified_on"]),
            "verified_by": row["verified_by"],
            "reviewed_on": _as_date(row.get("reviewed_on")),
            "review_by": _as_date(row.get("review_by")),
        }
        # A row re-verified in the admin since the file's check (a second editor approved
        # it) keeps that newer check and its sources: a deploy never moves it back.
        stored = LegalStatus.objects.filter(**key).only("verified_on").first()
        newer_check = stored is not None and stored.verified_on > values["verified_on"]
        if newer_check:
            for name in ("verified_on", "verified_by", "reviewed_on", "review_by"):
                del values[name]
        status, did = _upsert(LegalStatus, key, values)
        if not newer_check:
            _set_sources(status, row["sources"], sources, where)
        changed += did
    return changed


@transaction.atomic
def load_lab_limits(path: Path = CONTENT_DIR / "lab" / "limits.json") -> int:
    """Insert or update lab limits for COA checks, by substance and analyte; returns rows
    changed. Reads `path` (by default checklists/content/lab/limits.json)."""
    sources = {s.key: s for s in Source.objects.all()}
    problems = set(Problem.objects.values_list("key", flat=True))
    changed = 0
    for row in read_json(path):
        where = f"lab limit {row['analyte']!r}"
        check_lab_limit(row, where, problems)
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
                "panel": row.get("panel", ""),
                "problem_on_fail": row.get("problem_on_fail", ""),
                "pde_ug_per_day": row.get("pde_ug_per_day"),
                "summary": row.get("summary", ""),
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(limit, row["sources"], sources, where)
        changed += did
    return changed
