"""The knowledge data files as releases: loaded at once on a new installation, waiting for
an editor's approval on one that has knowledge already (issue 17: "an existing installation
gets the new content as a draft to approve").

The knowledge files are every JSON file under `knowledge/`, `legal/` and `lab/` of a
content directory. A release is identified by the SHA-256 of those files written
canonically, so running `load_default_content` again with the same files does nothing and
costs a handful of queries, whatever the size of the knowledge. Sources (`sources.json`)
are bibliography, not screening: they are loaded directly, so that the checklist's
citations and a release's rows can name them.

Approval loads the release's stored files, not whatever the disk holds then, through the
same loaders as a first installation (loaders.py), in one transaction with the decision
and its audit event.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..access import can_approve_knowledge
from ..models import AuditEvent, ContentRelease, Substance
from . import loaders
from .files import CONTENT_DIR, ContentError
from .workflow import WorkflowRefused

Status = ContentRelease.Status
KNOWLEDGE_FOLDERS = ("knowledge", "legal", "lab")


@dataclass(frozen=True)
class Outcome:
    """What `record_release` did: "loaded" (a new installation), "unchanged" (the files are
    the release running), "recorded" (a new pending release), "pending" or "rejected" (these
    files were recorded before and wait, or were turned down)."""

    what: str
    release: ContentRelease
    rows: int = 0


def read_files(directory: Path = CONTENT_DIR) -> dict[str, Any]:
    """Every knowledge file under `directory`, by its path relative to it."""
    files: dict[str, Any] = {}
    for folder in KNOWLEDGE_FOLDERS:
        for path in sorted((directory / folder).glob("*.json")):
            try:
                files[f"{folder}/{path.name}"] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise ContentError(
                    f"{folder}/{path.name}: not valid JSON (line {error.lineno}: {error.msg})"
                ) from None
    return files


def digest_of(files: dict[str, Any]) -> str:
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _row_key(row: Any) -> str:
    """How a row is named in a comparison: its code or key, a legal row by place, substance
    and start date, a lab limit by substance and analyte, anything else by its content."""
    if not isinstance(row, dict):
        return json.dumps(row, sort_keys=True)
    for name in ("code", "key"):
        if name in row:
            return str(row[name])
    if "jurisdiction" in row:
        return f"{row['jurisdiction']}/{row.get('substance')}/{row.get('effective_from') or '-'}"
    if "analyte" in row:
        return f"{row.get('substance')}/{row['analyte']}"
    return json.dumps(row, sort_keys=True)


def _changed_fields(old: Any, new: Any) -> list[str]:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return []
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def compare(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """Per file, the keys of the rows `after` adds, changes and removes against `before`
    (None: no release recorded on this installation before)."""
    if before is None:
        return {"earlier": None, "files": {}}
    result: dict[str, dict[str, list[str]]] = {}
    for path in sorted(set(before) | set(after)):
        old = {_row_key(r): r for r in before.get(path) or []}
        new = {_row_key(r): r for r in after.get(path) or []}
        changed = sorted(k for k in set(new) & set(old) if new[k] != old[k])
        part = {
            "added": sorted(set(new) - set(old)),
            "changed": changed,
            "removed": sorted(set(old) - set(new)),
        }
        if any(part.values()):
            # Which fields of each changed row differ, so the reviewer knows where to look.
            part["fields"] = {k: _changed_fields(old[k], new[k]) for k in changed}
            result[path] = part
    return {"earlier": True, "files": result}


def _load(files: dict[str, Any]) -> int:
    """Run the installation loaders on `files` (written to a scratch folder in the
    layout they expect); returns the rows added or changed."""
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        root = Path(scratch)
        for relative, data in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        for folder in KNOWLEDGE_FOLDERS:
            (root / folder).mkdir(exist_ok=True)
        return (
            loaders.load_knowledge(root / "knowledge")
            + loaders.load_legal(root / "legal")
            + loaders.load_lab_limits(root / "lab" / "limits.json")
        )


def _has_knowledge() -> bool:
    return ContentRelease.objects.applied().exists() or Substance.objects.exists()


@transaction.atomic
def record_release(directory: Path = CONTENT_DIR) -> Outcome:
    """The deploy's step: load the knowledge files of `directory` on a new installation, or
    record them as a release waiting for approval on one that runs other files."""
    files = read_files(directory)
    digest = digest_of(files)
    known = ContentRelease.objects.select_for_update().filter(digest=digest).first()
    if known is not None and known.status in (Status.APPLIED, Status.PENDING, Status.REJECTED):
        return Outcome({"applied": "unchanged"}.get(known.status, known.status), known)
    if not _has_knowledge():
        rows = _load(files)
        release = ContentRelease.objects.create(
            digest=digest,
            files=files,
            changes=compare(None, files),
            status=Status.APPLIED,
            decided_at=timezone.now(),
            comment="First load of a new installation.",
            rows_loaded=rows,
        )
        return Outcome("loaded", release, rows)
    current = ContentRelease.objects.current()
    ContentRelease.objects.pending().update(status=Status.SUPERSEDED, decided_at=timezone.now())
    values = {
        "files": files,
        "changes": compare(current.files if current else None, files),
        "status": Status.PENDING,
        "recorded_at": timezone.now(),
        "decided_at": None,
    }
    release, _ = ContentRelease.objects.update_or_create(digest=digest, defaults=values)
    audit.record(
        AuditEvent.Action.RELEASE_RECORDED,
        obj=release,
        detail={"digest": digest, "rows_to_review": release.change_count()},
    )
    return Outcome("recorded", release)


def _locked_pending(release: ContentRelease) -> ContentRelease:
    release = ContentRelease.objects.select_for_update().get(pk=release.pk)
    if not release.is_pending:
        raise WorkflowRefused(
            [f"This release is already decided ({release.get_status_display().lower()})."]
        )
    return release


@transaction.atomic
def approve_release(
    *, release: ContentRelease, user, comment: str = "", ip: str | None = None
) -> ContentRelease:
    """Load a pending release's files into the knowledge tables: an editor with the approve
    permission, in one transaction with the decision and its audit event. A file the
    loaders refuse leaves everything as it was, with the loader's reason."""
    if not can_approve_knowledge(user):
        raise WorkflowRefused(
            ["Only content editors with the approve permission can approve a release."]
        )
    release = _locked_pending(release)
    try:
        rows = _load(release.files)
    except ContentError as error:
        raise WorkflowRefused([f"The release cannot be loaded: {error}"]) from None
    release.status, release.decided_by, release.decided_at = Status.APPLIED, user, timezone.now()
    release.comment, release.rows_loaded = (comment or "").strip(), rows
    release.save(update_fields=["status", "decided_by", "decided_at", "comment", "rows_loaded"])
    audit.record(
        AuditEvent.Action.RELEASE_APPLIED,
        user=user,
        obj=release,
        ip=ip,
        detail={"digest": release.digest, "rows": rows},
    )
    return release


@transaction.atomic
def reject_release(
    *, release: ContentRelease, user, comment: str, ip: str | None = None
) -> ContentRelease:
    """Turn a pending release down, saying why; the same files are not recorded again."""
    if not can_approve_knowledge(user):
        raise WorkflowRefused(
            ["Only content editors with the approve permission can reject a release."]
        )
    if not (comment or "").strip():
        raise WorkflowRefused(["Say why it is rejected: the developers read it."])
    release = _locked_pending(release)
    release.status, release.decided_by, release.decided_at = Status.REJECTED, user, timezone.now()
    release.comment = comment.strip()
    release.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    audit.record(
        AuditEvent.Action.RELEASE_REJECTED,
        user=user,
        obj=release,
        ip=ip,
        detail={"digest": release.digest},
    )
    return release


SERVICES = {"approve": approve_release, "reject": reject_release}
