"""The most serious problems of a frozen snapshot, as the worklist, the timeline and the
dashboard show them. A signed checklist's problems are what it froze (flags_snapshot),
never a fresh screen: the record shows what the clinician saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import Severity
from ..screening.flags import flag_order


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    title: str


def problems(snapshot: list[dict[str, Any]] | None) -> list[Problem]:
    """Every problem of a snapshot in the order the signing page listed them
    (`screening.flags.flag_order`): a malformed row is skipped, since a snapshot is data
    from any past version of the app."""
    found = [
        Problem(str(flag["code"]), str(flag["severity"]), str(flag.get("title", "")))
        for flag in snapshot or []
        if isinstance(flag, dict) and flag.get("code") and flag.get("severity") in Severity.values
    ]
    return sorted(found, key=flag_order)


def most_serious(snapshot: list[dict[str, Any]] | None) -> list[Problem]:
    """The problems at the snapshot's highest severity (none when it froze none)."""
    found = problems(snapshot)
    return [p for p in found if p.severity == found[0].severity] if found else []
