"""What a row of `content/knowledge/substances.json` rests on (issue 17): its sources,
what they say and its review dates.

A class's members decide which rules fire (methadone is QT-prolonging, fluvoxamine a
CYP1A2 inhibitor), so membership is a clinical claim: a row of kind `drug_class` cites the
source that defines its members, and every row names the day it must be reviewed again.
The rule itself is the model's (`Substance.reference_problems`), asked here, by the admin's
form and by a proposal's approval. Called by `loaders.load_knowledge` for each row;
idempotent like the other loaders.
"""

from __future__ import annotations

from typing import Any

from ..models import Source, Substance
from .files import ContentError
from .loaders import _as_date


def _where(row: dict[str, Any]) -> str:
    if row.get("kind") == Substance.Kind.DRUG_CLASS:
        return f"class {row.get('key')!r} ({row.get('name')})"
    return f"substance {row.get('key')!r}"


def substance_values(row: dict[str, Any]) -> dict[str, Any]:
    """The row's stored fields; refuses a class without a source and any row without a
    review-by date, naming the row, before anything is written for it."""
    reasons = Substance(kind=row["kind"]).reference_problems(
        row.get("sources") or [], row.get("review_by")
    )
    if reasons:
        raise ContentError(f"{_where(row)}: {' '.join(reasons)}")
    try:
        reviewed_on, review_by = _as_date(row.get("reviewed_on")), _as_date(row["review_by"])
    except ValueError as error:
        raise ContentError(f"{_where(row)}: a date is not YYYY-MM-DD ({error})") from None
    return {
        "name": row["name"],
        "kind": row["kind"],
        "source_says": row.get("source_says", ""),
        "reviewed_on": reviewed_on,
        "review_by": review_by,
    }


def set_sources(substance: Substance, row: dict[str, Any], sources: dict[str, Source]) -> int:
    """The row's sources (none for most drugs); 1 when they changed, else 0."""
    keys = row.get("sources") or []
    unknown = [k for k in keys if k not in sources]
    if unknown:
        raise ContentError(f"{_where(row)}: unknown source(s) {unknown}")
    if {s.key for s in substance.sources.all()} == set(keys):
        return 0
    substance.sources.set([sources[k] for k in keys])
    return 1
