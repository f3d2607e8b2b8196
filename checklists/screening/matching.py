"""Medicine names as typed, to the substances the knowledge base holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models.content import Severity
from ..models.knowledge import normalise_name
from .flags import Flag
from .knowledge import Knowledge, SubstanceInfo

# The longest run of words tried as a name ("extended release oxycodone tablets").
MAX_NGRAM = 4
_WORD = re.compile(r"[a-z0-9]+")

UNMATCHED_ADVICE = (
    "This medicine did not match any name the knowledge base holds. Check it for "
    "interactions with kratom and melatonin yourself (pharmacist, interaction reference) "
    "and record what you found in the notes."
)


@dataclass(frozen=True)
class MedicationMatch:
    typed: str
    substance: SubstanceInfo | None

    @property
    def matched(self) -> bool:
        return self.substance is not None


def candidate_names(text: str) -> list[str]:
    """Every run of 1 to 4 consecutive words, longest first: where a name may hide among
    doses and frequencies ("OxyContin 20mg BID" → ... "oxycontin", "20mg", "bid")."""
    words = _WORD.findall(text.lower())
    runs = []
    for size in range(min(MAX_NGRAM, len(words)), 0, -1):
        runs += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return runs


def match_medication(text: str, knowledge: Knowledge) -> MedicationMatch:
    """The substance of the longest run of words the knowledge base knows as a name."""
    for run in candidate_names(text):
        found = knowledge.names.get(normalise_name(run))
        if found is not None:
            return MedicationMatch(text, found)
    return MedicationMatch(text, None)


def unmatched_flag(typed: str) -> Flag:
    """A medicine no name matched: the clinician checks it by hand (never silently passed)."""
    slug = normalise_name(typed).replace(" ", "-")[:80]
    return Flag(
        code=f"medication:unmatched:{slug}",
        category="interaction",
        severity=Severity.INFO,
        title=f"Not in the knowledge base: check by hand ({typed})",
        advice=UNMATCHED_ADVICE,
        problem="unchecked-medicines",
        names=(typed,),
        kind="medicine",
    )
