"""The export bundle (what `export_content` writes and `import_content` reads), and sources.

A bundle is `{"format", "format_version", "sources": [...], "checklists": [...]}`, each
checklist in the shape of a checklist data file (files.py). `sources.json` in
checklists/content/ is a list of sources in the same shape as the bundle's.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from .. import audit
from ..models import AuditEvent, Source, TemplateVersion
from .files import ContentError, check_text, check_type, validate_template_data, version_data
from .loaders import load_template

# The file `export_content` writes and `import_content` reads.
BUNDLE_FORMAT = "kratom-melatonin-checklists/content"
BUNDLE_FORMAT_VERSION = 1
SOURCE_FIELDS = ("key", "title", "publisher", "year", "url", "kind")


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


def validate_sources_data(rows: Any) -> None:
    check_type(rows, list, "sources", "'sources'")
    kinds = set(Source.Kind.values)
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"sources[{index}]"
        check_type(row, dict, where, "a source")
        if set(row) - set(SOURCE_FIELDS):
            raise ContentError(f"{where}: unknown keys {sorted(set(row) - set(SOURCE_FIELDS))}")
        check_text(row, "key", where, max_length=80)
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", row["key"]):
            raise ContentError(f"{where}: 'key' must be lowercase letters, digits and hyphens")
        if row["key"] in seen:
            raise ContentError(f"{where}: source key {row['key']!r} repeats")
        seen.add(row["key"])
        check_text(row, "title", where, max_length=400)
        check_text(row, "publisher", where, max_length=200, required=False)
        check_text(row, "url", where, max_length=500, required=False)
        if row.get("year") is not None:
            check_type(row["year"], int, where, "'year'")
        if row.get("kind") not in kinds:
            raise ContentError(f"{where}: unknown kind {row.get('kind')!r}")


def checklists_in(data: Any) -> tuple[list[dict], list[dict]]:
    """(sources, checklists) of an export bundle or of a single checklist file."""
    check_type(data, dict, "file", "the top level")
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
    check_type(data["checklists"], list, "checklists", "'checklists'")
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
