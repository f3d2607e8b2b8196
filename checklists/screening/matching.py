"""Medicine names as typed, to the substances the knowledge base holds (issue 17).

A medicine resolves to one substance, one product (a row that names its ingredients:
"Fioricet with Codeine", "Tylenol PM") or, when its text joins generic names ("promethazine
with codeine", "oxycodone/acetaminophen"), to every substance named. The longest run of
words that is a known name wins, so a more specific brand line beats a shorter brand
("ZzzQuil Pure Zzzs" is melatonin, "ZzzQuil" diphenhydramine). Rules see the `contents`
of what matched: each ingredient with its classes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..models.content import Severity
from ..models.knowledge import normalise_name
from .flags import Flag
from .knowledge import Knowledge, SubstanceInfo
from .spelling import suggest

# The longest run of words tried as a name ("advil dual action with acetaminophen").
MAX_NGRAM = 6
_WORD = re.compile(r"[a-z0-9]+")
# What joins two medicines named in one row: "with", "and", "plus", "w/", "/", "+", "&",
# and the commas of a generic name ("butalbital, acetaminophen, caffeine and codeine").
_JOINER = re.compile(r"\s+(?:with|and|plus)\s+|\s+w/\s*|\s*[/+&,;]\s*", re.IGNORECASE)
# Substances whose presence in the medicine list is use of a screened agent: a kratom or
# 7-OH product is kratom use (issue 17), a melatonin product melatonin use.
AGENT_OF = {"kratom": "kratom", "seven-oh-concentrate": "kratom", "melatonin": "melatonin"}

UNMATCHED_ADVICE = (
    "This medicine did not match any name the knowledge base holds. Check it for "
    "interactions with kratom and melatonin yourself (pharmacist, interaction reference) "
    "and record what you found in the notes."
)


@dataclass(frozen=True)
class MedicationMatch:
    typed: str
    # A substance, a product, or (several generic names in one row) an unsaved product.
    substance: SubstanceInfo | None
    # For a name no run matched (or a joined part that did not): the closest known name.
    suggestion: str = ""

    @property
    def matched(self) -> bool:
        return self.substance is not None

    @property
    def contents(self) -> tuple[SubstanceInfo, ...]:
        """What the rules see: each ingredient (a product) or the substance itself."""
        return self.substance.contents if self.substance else ()

    @property
    def agents(self) -> tuple[str, ...]:
        """The screened agents this medicine is use of ("7-OH tablets": kratom)."""
        return tuple(sorted({AGENT_OF[s.key] for s in self.contents if s.key in AGENT_OF}))


def candidate_names(text: str, longest: int = MAX_NGRAM) -> list[str]:
    """Every run of 1 to 6 consecutive words, longest first: where a name may hide among
    doses and frequencies ("OxyContin 20mg BID" → ... "oxycontin", "20mg", "bid")."""
    words = _WORD.findall(text.lower())
    runs = []
    for size in range(min(longest, len(words)), 0, -1):
        runs += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return runs


def _lookup(run: str, knowledge: Knowledge) -> SubstanceInfo | None:
    """A run as written, or with its spaces closed up ("7OH" is "7-OH", "MIT 45" "MIT45")."""
    found = knowledge.names.get(normalise_name(run))
    if found is None:
        found = knowledge.compact.get(run.replace(" ", ""))
    return found


def _longest(text: str, knowledge: Knowledge) -> tuple[str, SubstanceInfo] | None:
    """The longest run of words the knowledge base knows as a name, and what it names."""
    for run in candidate_names(text):
        found = _lookup(run, knowledge)
        if found is not None:
            return run, found
    return None


def match_medication(text: str, knowledge: Knowledge) -> MedicationMatch:
    """What a medicine as typed names: the longest known name in it, unless its text joins
    two or more known names ("promethazine with codeine"), which then all count. A known
    name that spans the joining word ("Fioricet with Codeine") is the more specific one
    and wins. An unmatched name, or a joined part, gets the closest known spelling."""
    whole = _longest(text, knowledge)
    parts = [p for p in _JOINER.split(text) if p.strip()]
    if len(parts) < 2:
        return _single(text, whole, knowledge)
    found = [_longest(part, knowledge) for part in parts]
    hint = _first_suggestion([p for p, f in zip(parts, found, strict=True) if f is None], knowledge)
    spans = whole is not None and all(whole[0] not in candidate_names(p) for p in parts)
    named = _distinct(f[1] for f in found if f is not None)
    if spans or len(named) < 2:
        return _single(text, whole, knowledge, hint)
    return MedicationMatch(text, _joined(named), hint)


def _single(
    text: str, whole: tuple[str, SubstanceInfo] | None, knowledge: Knowledge, hint: str = ""
) -> MedicationMatch:
    """One name found (with a hint for a joined part that was not), or none: then the
    closest known spelling of the whole text."""
    if whole is None:
        return MedicationMatch(text, None, hint or suggest(text, knowledge))
    return MedicationMatch(text, whole[1], hint)


def _first_suggestion(texts: list[str], knowledge: Knowledge) -> str:
    for text in texts:
        hint = suggest(text, knowledge)
        if hint:
            return hint
    return ""


def _distinct(found) -> list[SubstanceInfo]:
    seen: dict[str, SubstanceInfo] = {}
    for info in found:
        seen.setdefault(info.key, info)
    return list(seen.values())


def _joined(named: list[SubstanceInfo]) -> SubstanceInfo:
    """Several names in one row, as a product not stored anywhere: its ingredients are
    every substance named (a named product's own ingredients included)."""
    ingredients = _distinct(s for info in named for s in info.contents)
    return SubstanceInfo(
        pk=None,
        key="+".join(info.key for info in named),
        name=" + ".join(info.name for info in named)[:120],
        classes=frozenset(),
        ingredients=tuple(ingredients),
    )


def contents(matches: list[MedicationMatch]) -> Iterator[tuple[MedicationMatch, SubstanceInfo]]:
    """Each matched medicine with each substance it contains, in list order."""
    for match in matches:
        for substance in match.contents:
            yield match, substance


def agents_named(matches: list[MedicationMatch]) -> dict[str, tuple[str, ...]]:
    """The screened agents the medicine list shows in use, each with the medicines as typed."""
    found: dict[str, list[str]] = {}
    for match in matches:
        for agent in match.agents:
            found.setdefault(agent, []).append(match.typed)
    return {agent: tuple(typed) for agent, typed in found.items()}


def unmatched_severity(agents: frozenset[str]) -> str:
    """How loud an unchecked medicine is (issue 17). For a kratom user, moderate: kratom
    adds opioid, sedative and CYP-inhibiting effects to whatever the medicine is, and the
    harms missed (respiratory depression, raised levels) are serious. For a melatonin-only
    user, minor: melatonin's known serious interactions (fluvoxamine, sedatives) are named
    rows the list would have matched, and what is left is mostly additive drowsiness; the
    check is still asked for. With neither agent in use, information."""
    if "kratom" in agents:
        return Severity.MODERATE
    if "melatonin" in agents:
        return Severity.MINOR
    return Severity.INFO


def unmatched_flag(typed: str, agents: frozenset[str] = frozenset(), suggestion: str = "") -> Flag:
    """A medicine no name matched: the clinician checks it by hand (never silently passed)."""
    slug = normalise_name(typed).replace(" ", "-")[:80]
    advice = UNMATCHED_ADVICE
    if suggestion:
        advice = (
            f"The closest known name is {suggestion}: if that was meant, correct the "
            f"medicine list. {advice}"
        )
    return Flag(
        code=f"medication:unmatched:{slug}",
        category="interaction",
        severity=unmatched_severity(agents),
        title=f"Not in the knowledge base: check by hand ({typed})",
        advice=advice,
        problem="unchecked-medicines",
        names=(typed,),
        kind="medicine",
        medicines=(typed,),
    )
