"""A case's timeline: every checklist on it, oldest first, with its most serious problems
and what changed since the signed checklist before it.

Computed from what signing froze (the flags snapshot and the medicine rows), never from a
new screen, so the timeline tells what each clinician saw. Two queries whatever the number
of checklists: the checklists (with version, template and people) and their medicines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..cases.followup import FOLLOW_UP_SLUG
from ..models import ChecklistResponse, MedicationEntry, PatientCase
from .problems import Problem, most_serious, problems

SIGNED = (ChecklistResponse.Status.SIGNED, ChecklistResponse.Status.SUPERSEDED)


@dataclass(frozen=True)
class Medicine:
    name: str
    dose: str

    @property
    def key(self) -> str:
        return self.name.casefold()


@dataclass
class Changes:
    """What differs from the signed checklist before (`since`)."""

    since: ChecklistResponse
    new_problems: list[Problem] = field(default_factory=list)
    resolved_problems: list[Problem] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return any(
            (self.new_problems, self.resolved_problems, self.started, self.stopped, self.changed)
        )


@dataclass
class Entry:
    response: ChecklistResponse
    kind: str
    most_serious: list[Problem]
    changes: Changes | None = None


def kind_of(response: ChecklistResponse) -> str:
    if response.amends_id is not None:
        return "Amendment"
    if response.version.template.slug == FOLLOW_UP_SLUG:
        return "Follow-up review"
    return "Intake"


def timeline(case: PatientCase, responses: list[ChecklistResponse] | None = None) -> list[Entry]:
    """Every checklist of the case, oldest first. `responses` (with version__template,
    started_by and signed_by) may be passed when the caller has read them already."""
    if responses is None:
        responses = list(
            case.responses.select_related("version__template", "started_by", "signed_by")
        )
    ordered = sorted(responses, key=lambda r: (r.signed_at or r.started_at, r.pk))
    medicines = _medicines([r.pk for r in ordered if r.status in SIGNED])
    entries, before = [], None
    for response in ordered:
        signed = response.status in SIGNED
        entry = Entry(response, kind_of(response), most_serious(response.flags_snapshot))
        if signed and before is not None:
            entry.changes = _changes(before, response, medicines)
        if signed:
            before = response
        entries.append(entry)
    return entries


def _medicines(response_ids: list[int]) -> dict[int, list[Medicine]]:
    """The medicines frozen at each signing, by response (one query)."""
    found: dict[int, list[Medicine]] = defaultdict(list)
    rows = MedicationEntry.objects.filter(response_id__in=response_ids).values_list(
        "response_id", "name_as_typed", "matched_name", "dose", "frequency"
    )
    for response_id, typed, matched, dose, frequency in rows:
        found[response_id].append(
            Medicine(matched or typed, " ".join(p for p in (dose, frequency) if p))
        )
    return found


def _changes(
    before: ChecklistResponse, after: ChecklistResponse, medicines: dict[int, list[Medicine]]
) -> Changes:
    old = {p.code: p for p in problems(before.flags_snapshot)}
    new = {p.code: p for p in problems(after.flags_snapshot)}
    was = {m.key: m for m in medicines.get(before.pk, [])}
    now = {m.key: m for m in medicines.get(after.pk, [])}
    return Changes(
        since=before,
        new_problems=[p for code, p in new.items() if code not in old],
        resolved_problems=[p for code, p in old.items() if code not in new],
        started=[m.name for key, m in now.items() if key not in was],
        stopped=[m.name for key, m in was.items() if key not in now],
        changed=[
            f"{m.name}: {was[key].dose or 'no dose'} → {m.dose or 'no dose'}"
            for key, m in now.items()
            if key in was and was[key].dose != m.dose
        ],
    )
