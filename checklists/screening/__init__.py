"""The screening engine: the only place that decides what is flagged.

An intake (substances in use, medications, age, factors, jurisdiction, products) goes in,
graded flags come out. The engine reads the knowledge tables (through `load_knowledge`)
but never writes, and knows nothing of requests. Views, exports and the `screen` command
all call it.

- `intake`: the intake, from the `screen` command's JSON or from a checklist's answers;
- `knowledge`: the knowledge base as plain values, and what one intake needs of it;
- `matching`: medicine names as typed to substances, products and their ingredients;
- `spelling`: "did you mean" for a name nothing matched;
- `flags`: what comes out, and its order;
- `rules/`: one module per family of flags (interactions, variability, legal, lab, and the
  checklist items' own cautions).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .flags import NEEDS_ACKNOWLEDGEMENT, Flag, sort_flags
from .intake import Intake, IntakeError, intake_from_answers, parse_intake
from .knowledge import (
    Knowledge,
    KnowledgeBase,
    LegalRow,
    SubstanceInfo,
    knowledge_base,
    load_knowledge,
    load_knowledge_base,
)
from .matching import MedicationMatch, agents_named, match_medication, unmatched_flag
from .problems import fingerprint, fold
from .reconcile import Reconciliation, reconcile
from .rules.combinations import combination_flags
from .rules.interactions import interaction_flags
from .rules.items import item_caution_flags
from .rules.lab import lab_flags
from .rules.legal import legal_flags
from .rules.variability import variability_flags

__all__ = [
    "NEEDS_ACKNOWLEDGEMENT",
    "Flag",
    "Intake",
    "IntakeError",
    "Knowledge",
    "KnowledgeBase",
    "LegalRow",
    "MedicationMatch",
    "ScreeningResult",
    "SubstanceInfo",
    "intake_from_answers",
    "item_caution_flags",
    "knowledge_base",
    "load_knowledge",
    "load_knowledge_base",
    "match_medication",
    "parse_intake",
    "screen",
    "sort_flags",
    "fold",
    "fingerprint",
    "Reconciliation",
    "reconcile",
]


@dataclass
class ScreeningResult:
    # One flag per clinical problem; `raw` holds the rule hits before folding, for callers
    # that fold them with hits of their own (the checklist items' cautions).
    flags: list[Flag]
    matches: list[MedicationMatch]
    raw: list[Flag] = field(default_factory=list)
    problems: dict = field(default_factory=dict)
    # The legal rows in effect at the patient's jurisdiction (and the places above it).
    legal: list[LegalRow] = field(default_factory=list)
    legal_stale_days: int = 90
    # The agents screened for (those asked about, and those the medicine list shows), and
    # the medicines that showed each (issue 17: "7-OH tablets" is kratom use).
    substances: frozenset[str] = frozenset()
    from_medicines: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def unmatched(self) -> list[str]:
        return [m.typed for m in self.matches if not m.matched]

    @property
    def suggestions(self) -> dict[str, str]:
        """'Did you mean': each medicine as typed with the closest known name, where one is
        close enough (a hint only; nothing is screened on it)."""
        return {m.typed: m.suggestion for m in self.matches if m.suggestion}


def screen(
    intake: Intake, knowledge: Knowledge | None = None, *, base: KnowledgeBase | None = None
) -> ScreeningResult:
    """The problems an intake raises, most serious first, and what each medication matched."""
    knowledge = knowledge or load_knowledge(
        intake.medications,
        jurisdiction=intake.jurisdiction,
        on=intake.on,
        with_limits=bool(intake.products),
        base=base,
    )
    matches = [match_medication(text, knowledge) for text in intake.medications]
    # A kratom or 7-OH product in the medicine list is kratom use, whatever was ticked.
    from_medicines = agents_named(matches)
    if set(from_medicines) - intake.substances:
        intake = replace(intake, substances=intake.substances | set(from_medicines))
    flags = (
        interaction_flags(intake, matches, knowledge)
        + combination_flags(intake, matches, knowledge)
        + variability_flags(intake, knowledge)
        + legal_flags(intake, knowledge)
        + lab_flags(intake, knowledge.limits, knowledge.legal)
    )
    for match in matches:
        if not match.matched:
            flags.append(unmatched_flag(match.typed, intake.substances, match.suggestion))
    return ScreeningResult(
        flags=fold(flags, knowledge.problems),
        matches=matches,
        raw=flags,
        problems=knowledge.problems,
        legal=sorted(knowledge.legal, key=lambda r: (r.depth, r.substance)),
        legal_stale_days=knowledge.legal_stale_days,
        substances=intake.substances,
        from_medicines=from_medicines,
    )
