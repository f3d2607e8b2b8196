"""What the checklist already knows, as starting answers (issue 18, point 1).

A clinician should not be asked what the case already records: the place where the patient
lives fills the jurisdiction question, and the birth year the age band (when every age the
birth year allows falls in one band: born in 1974, the patient is 51 or 52 on any day of
2026). The date of the clinician's own check of the law starts as the checklist's date
("I checked this today"), and the monitoring plan with what the problems the cautions raise
call for (each problem's suggestions are the item's content: `screening.problems`). Each
is the form's initial value, marked on the page, and counts only once the clinician saves
it; an answer already given always wins. Pure.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

CHECK_DATE_ROLE = "legal_check_date"


def from_case(
    items: Iterable, answers: Mapping[str, Any], case, on: datetime.date
) -> dict[str, Any]:
    """The initial value of each unanswered item among `items` that the case answers
    (marked "from the case" on the page)."""
    values: dict[str, Any] = {}
    for item in items:
        if answers.get(item.key) is not None:
            continue
        rule = item.screening or {}
        if rule.get("role") == "jurisdiction" and case.jurisdiction:
            values[item.key] = case.jurisdiction
        elif rule.get("ages") and case.birth_year:
            band = age_band(rule["ages"], case.birth_year, on)
            if band:
                values[item.key] = band
    return values


def defaults(items: Iterable, answers: Mapping[str, Any], on: datetime.date) -> dict[str, Any]:
    """Starting answers that are not the case's: the date of the clinician's own check of
    the law is the checklist's date unless they change it."""
    return {
        item.key: on
        for item in items
        if item.screening_role == CHECK_DATE_ROLE and answers.get(item.key) is None
    }


def age_band(bands: Mapping[str, list[int]], birth_year: int, on: datetime.date) -> str | None:
    """The option whose [youngest, oldest] holds both ages a birth year allows on `on`, or
    None when a birthday decides it (the question is asked)."""
    youngest, oldest = on.year - birth_year - 1, on.year - birth_year
    for code, (low, high) in bands.items():
        if low <= youngest and oldest <= high:
            return code
    return None


def from_problems(
    items: Iterable, answers: Mapping[str, Any], problems: Iterable[str]
) -> dict[str, list[str]]:
    """The options each unanswered monitoring item suggests for the problems raised (their
    keys), in the item's own order (marked "suggested by the cautions" on the page)."""
    raised = set(problems)
    values: dict[str, list[str]] = {}
    for item in items:
        rule = item.screening or {}
        if rule.get("role") != "monitoring" or answers.get(item.key) is not None:
            continue
        wanted = {code for key in raised for code in rule.get("problems", {}).get(key, [])}
        chosen = [o["code"] for o in item.options or [] if o["code"] in wanted]
        if chosen:
            values[item.key] = chosen
    return values
