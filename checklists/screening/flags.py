"""What screening reports: graded flags, and the order pages show them in.

A flag is a clinical problem (issue 16): `contributors` are the rule hits folded into it
(screening/problems.py). A raw rule hit is a Flag too, before folding: it carries the key
of its `problem` and the `names` it contributes to the problem's title.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..models.content import Severity

# Flags this serious must be acknowledged, with a reason, before a checklist is signed.
NEEDS_ACKNOWLEDGEMENT = (Severity.CONTRAINDICATED, Severity.MAJOR)


@dataclass(frozen=True)
class Contributor:
    """One rule hit inside a problem: what it is (`kind`: medicine, combination, agent,
    factor, answer, product, place), what it matched (`subject`), its own grading, and the
    medicine-list entries it involves, as typed (`medicines`; none in snapshots signed
    before they were recorded)."""

    code: str
    kind: str
    subject: str
    severity: str
    title: str
    advice: str
    sources: tuple[str, ...] = field(default_factory=tuple)
    medicines: tuple[str, ...] = field(default_factory=tuple)

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def heading(self) -> str:
        """Its title, and what it matched where that says more ("Kratom with another CNS
        depressant (Trazodone + kratom)"); a checklist answer's caution is its own subject,
        so it is not named twice."""
        same = not self.subject or self.subject.casefold() == self.title.casefold()
        return self.title if same else f"{self.title} ({self.subject})"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        data["medicines"] = list(self.medicines)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contributor:
        return cls(
            **{
                **data,
                "sources": tuple(data.get("sources", ())),
                "medicines": tuple(data.get("medicines", ())),
            }
        )


@dataclass(frozen=True)
class Flag:
    code: str
    category: str
    severity: str
    title: str
    advice: str
    sources: tuple[str, ...] = field(default_factory=tuple)
    contributors: tuple[Contributor, ...] = field(default_factory=tuple)
    # Before folding only: the problem's key, what the hit names, its kind, and the
    # medicine-list entries (as typed) it involves.
    problem: str = field(default="", compare=False)
    names: tuple[str, ...] = field(default_factory=tuple, compare=False)
    kind: str = field(default="", compare=False)
    medicines: tuple[str, ...] = field(default_factory=tuple, compare=False)

    @property
    def needs_acknowledgement(self) -> bool:
        return self.severity in NEEDS_ACKNOWLEDGEMENT

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    def as_dict(self) -> dict[str, Any]:
        """The `screen` shape: code, category, severity, title, advice, sources, contributors."""
        return {
            "code": self.code,
            "category": self.category,
            "severity": self.severity,
            "title": self.title,
            "advice": self.advice,
            "sources": list(self.sources),
            "contributors": [c.as_dict() for c in self.contributors],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        """Also reads snapshots signed before problems existed (no contributors)."""
        known = {"code", "category", "severity", "title", "advice"}
        return cls(
            **{k: v for k, v in data.items() if k in known},
            sources=tuple(data.get("sources", ())),
            contributors=tuple(Contributor.from_dict(c) for c in data.get("contributors", ())),
        )


def flag_order(flag) -> tuple[int, str]:
    """The order problems are listed in wherever they are shown: most serious first, then
    by code. Anything with a `severity` and a `code` (a flag, a snapshot's problem)."""
    return Severity.rank(flag.severity), flag.code


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Most serious first, then by code; a code appears once (its most serious flag)."""
    unique: dict[str, Flag] = {}
    for flag in flags:
        kept = unique.get(flag.code)
        if kept is None or Severity.rank(flag.severity) < Severity.rank(kept.severity):
            unique[flag.code] = flag
    return sorted(unique.values(), key=flag_order)
