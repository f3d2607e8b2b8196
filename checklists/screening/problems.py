"""Rule hits folded into clinical problems: one flag per problem (issue 16).

Each raw flag (a rule hit: a medicine, a combination of medicines, a patient factor, an
answer, a product, a place) names the problem it belongs to. `fold` gathers the hits of one
problem into one flag: the most serious contributor's severity, a statement title naming
what contributes ("Tramadol (opioid agonists) + Alprazolam (benzodiazepines) + kratom:
added CNS and respiratory depression"), each contributor's advice and the union of their
sources. So the missing certificate counted by three questions and a lot is one problem,
and the opioid named by a question and by the medicine list is one problem.

`fingerprint` says whether a problem is unchanged between two revisions (same contributors,
same severity), so an amendment can carry its acknowledgement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from ..models.content import Severity
from .flags import Contributor, Flag, sort_flags
from .knowledge import ProblemInfo

PREFIX = "problem:"
# How many contributors a title names before "and N more".
TITLE_NAMES = 5


def fold(raw: Iterable[Flag], catalogue: Mapping[str, ProblemInfo]) -> list[Flag]:
    """One flag per problem, most serious first. A hit whose problem is not in the
    catalogue stays a problem of its own (its code kept), so nothing is ever dropped."""
    groups: dict[str, list[Flag]] = {}
    for flag in sort_flags(raw):
        key = flag.problem if flag.problem in catalogue else ""
        groups.setdefault(key or flag.code, []).append(flag)
    problems = [
        _problem(catalogue[key], hits) if key in catalogue else _alone(hits[0])
        for key, hits in groups.items()
    ]
    return sort_flags(problems)


def _problem(info: ProblemInfo, hits: list[Flag]) -> Flag:
    contributors = tuple(_contributor(h) for h in hits)
    severity = min((h.severity for h in hits), key=Severity.rank)
    sources: dict[str, None] = dict.fromkeys(s for h in hits for s in h.sources)
    # With several contributors each advice says whose it is; alone, it speaks for itself.
    advice: dict[str, None] = dict.fromkeys(
        f"{h.title}: {h.advice}" if len(hits) > 1 else h.advice for h in hits
    )
    return Flag(
        code=PREFIX + info.key,
        category=info.category,
        severity=severity,
        title=_title(info.title, hits),
        advice="\n".join(advice),
        sources=tuple(sources),
        contributors=contributors,
    )


def _alone(hit: Flag) -> Flag:
    return Flag(
        code=hit.code,
        category=hit.category,
        severity=hit.severity,
        title=hit.title.rstrip(" ?"),
        advice=hit.advice,
        sources=hit.sources,
        contributors=(_contributor(hit),),
    )


def _title(statement: str, hits: list[Flag]) -> str:
    # A medicine named twice (for two of its classes) is named once, as first met.
    names: dict[str, str] = {}
    for hit in hits:
        for name in hit.names:
            names.setdefault(name.split(" (")[0], name)
    names = {v: None for v in names.values()}
    shown = list(names)[:TITLE_NAMES]
    if not shown:
        return statement[:1].upper() + statement[1:]
    more = len(names) - len(shown)
    joined = " + ".join(shown) + (f" and {more} more" if more else "")
    return f"{joined}: {statement}"


def _contributor(hit: Flag) -> Contributor:
    return Contributor(
        code=hit.code,
        kind=hit.kind or hit.category,
        subject=" + ".join(hit.names) or hit.title,
        severity=hit.severity,
        title=hit.title,
        advice=hit.advice,
        sources=hit.sources,
        medicines=hit.medicines,
    )


def fingerprint(flag: Flag) -> str:
    """The same for a problem with the same contributors (code and subject) and severity."""
    parts = sorted(f"{c.code}|{c.subject}|{c.severity}" for c in flag.contributors)
    text = "\n".join([flag.code, flag.severity, *parts])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
