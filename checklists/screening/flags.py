"""What screening reports: graded flags, and the order pages show them in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..models.content import Severity

# Flags this serious must be acknowledged, with a reason, before a checklist is signed.
NEEDS_ACKNOWLEDGEMENT = (Severity.CONTRAINDICATED, Severity.MAJOR)


@dataclass(frozen=True)
class Flag:
    code: str
    category: str
    severity: str
    title: str
    advice: str
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def needs_acknowledgement(self) -> bool:
        return self.severity in NEEDS_ACKNOWLEDGEMENT

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        return cls(**{**data, "sources": tuple(data.get("sources", ()))})


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Most serious first, then by code; a code appears once (its most serious flag)."""
    unique: dict[str, Flag] = {}
    for flag in flags:
        kept = unique.get(flag.code)
        if kept is None or Severity.rank(flag.severity) < Severity.rank(kept.severity):
            unique[flag.code] = flag
    return sorted(unique.values(), key=lambda f: (Severity.rank(f.severity), f.code))
