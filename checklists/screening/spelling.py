"""'Did you mean': the known name closest to a medicine no name matched (issue 17).

rapidfuzz's `fuzz.ratio` (an edit-distance similarity from 0 to 100, in C) compares each
run of words in the medicine with every known name, normalised as the names are. The
cut-off was chosen by testing real misspellings and unrelated words against the starter
knowledge (1,323 names; tests/test_matching.py keeps the cases): a letter dropped or added
in a name of four letters or more, or one wrong letter in a name of six or more, scores 83
or higher ("ambian" → Ambien 83.3, "kratum" → kratom 83.3, "xanx" → Xanax 88.9,
"sertralin" → sertraline 94.7), while words that name nothing known
score 80 at most ("pain" → Zapain 80.0, "calcium" → Valium 76.9, "biotin" → Isoptin 76.9,
"glucosamine" → lacosamide 76.2, "vitamin d" → Ritalin 71.4). 82 sits between the two.
Letters swapped across a name are missed ("fentynal" → fentanyl 75.0): a hint, not a net.
Nothing is screened on a suggestion. About 0.4 to 1.2 ms per unmatched medicine.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

if TYPE_CHECKING:
    from .knowledge import Knowledge

CUTOFF = 82
# Runs shorter than this are doses, routes and abbreviations more often than names.
MIN_LENGTH = 4
LONGEST_RUN = 3
_WORD = re.compile(r"[a-z0-9]+")


def _runs(text: str) -> list[str]:
    """Runs of 1 to 3 words that could be a misspelt name: no word starting with a digit
    ("50mg", "2"), at least four letters."""
    words = [w for w in _WORD.findall(text.lower()) if not w[0].isdigit()]
    runs = []
    for size in range(min(LONGEST_RUN, len(words)), 0, -1):
        runs += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return [r for r in runs if len(r) >= MIN_LENGTH]


def suggest(text: str, knowledge: Knowledge) -> str:
    """The known name closest to `text` as an editor wrote it, with its substance when that
    is another name ("Ambien (Zolpidem)"); "" when nothing is close enough."""
    best: tuple[str, float] | None = None
    for run in _runs(text):
        found = process.extractOne(run, knowledge.spellings, scorer=fuzz.ratio, score_cutoff=CUTOFF)
        if found is not None and (best is None or found[1] > best[1]):
            best = (found[0], found[1])
    if best is None:
        return ""
    written = knowledge.written.get(best[0], best[0])
    # A product's name carries its brands in brackets: name its generic part only.
    substance = knowledge.names[best[0]].name.split(" (")[0]
    if normalise(written) == normalise(substance):
        return substance
    return f"{written} ({substance})"


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))
