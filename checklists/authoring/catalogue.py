"""The problem catalogue and the medicine-combination rules, from `content/knowledge/`.

`problems.json` is read before the rules (each rule names its problem by key);
`combinations.json` after the substances (each rule names a substance or class). Both are
idempotent like the other loaders (issue 16).
"""

from __future__ import annotations

from pathlib import Path

from ..models import CombinationRule, Problem, Source, Substance
from ..models.knowledge import is_question
from .files import ContentError, read_json
from .loaders import _as_date, _set_sources, _upsert, problem_of


def load_problems(directory: Path, sources: dict[str, Source]) -> tuple[dict[str, Problem], int]:
    """Insert or update every problem; returns them by key, and the rows changed."""
    found: dict[str, Problem] = {}
    changed = 0
    for row in read_json(directory / "problems.json"):
        if is_question(row["title"]):
            raise ContentError(f"problem {row['key']!r}: its title must be a statement")
        problem, did = _upsert(
            Problem,
            {"key": row["key"]},
            {
                "title": row["title"],
                "category": row["category"],
                "description": row["description"],
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(problem, row["sources"], sources, f"problem {row['key']!r}")
        found[row["key"]] = problem
        changed += did
    return found, changed


def load_combinations(
    directory: Path,
    by_key: dict[str, Substance],
    problems: dict[str, Problem],
    sources: dict[str, Source],
) -> int:
    changed = 0
    for row in read_json(directory / "combinations.json"):
        for end in ("first", "second"):
            if row.get(end) is not None and row[end] not in by_key:
                raise ContentError(f"rule {row['code']!r}: unknown {end} {row[end]!r}")
        rule, did = _upsert(
            CombinationRule,
            {"code": row["code"]},
            {
                "problem": problem_of(row, problems),
                "first": by_key[row["first"]],
                "second": by_key[row["second"]] if row.get("second") else None,
                "severity": row["severity"],
                "evidence": row.get("evidence", ""),
                "title": row["title"],
                "advice": row["advice"],
                "source_says": row["source_says"],
                "reviewed_on": _as_date(row.get("reviewed_on")),
                "review_by": _as_date(row.get("review_by")),
            },
        )
        _set_sources(rule, row["sources"], sources, f"rule {row['code']!r}")
        changed += did
    return changed
