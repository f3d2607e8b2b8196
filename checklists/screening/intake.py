"""What goes into screening: the intake, from the `screen` command's JSON or from a
checklist's answers."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..conditions import effective_answers
from ..models.knowledge import Agent, VariabilityRule

AGENTS = frozenset(Agent.values)
FACTORS = frozenset(VariabilityRule.Factor.values) - {VariabilityRule.Factor.COMBINATION}


class IntakeError(ValueError):
    """An intake that cannot be screened; the message says which key is wrong."""


@dataclass(frozen=True)
class Intake:
    on: datetime.date
    substances: frozenset[str] = frozenset()
    medications: tuple[str, ...] = ()
    age_years: int | None = None
    factors: frozenset[str] = frozenset()
    jurisdiction: str | None = None
    products: tuple[Mapping[str, Any], ...] = ()
    # The clinician's own checks of the law, per agent: {"kratom": {"consulted": text,
    # "on": date}}. Kratom's check covers its concentrated 7-OH products.
    legal_checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def legal_check(self, agent: str) -> Mapping[str, Any] | None:
        return self.legal_checks.get(agent)

    def all_factors(self) -> frozenset[str]:
        """The factors given, plus the age bands the age implies."""
        derived = set(self.factors)
        if self.age_years is not None:
            if self.age_years < 18:
                derived.add(VariabilityRule.Factor.UNDER_18)
            if self.age_years >= 65:
                derived.add(VariabilityRule.Factor.AGE_65_PLUS)
        return frozenset(derived)


INTAKE_KEYS = {
    "on",
    "substances",
    "medications",
    "age_years",
    "factors",
    "jurisdiction",
    "products",
    "legal_check",
}
PRODUCT_KEYS = {
    "name",
    "substance",
    "form",
    "label_lot",
    "label_amount_mg",
    # Issue 17: the label's daily amount and serving size (grams of product), and the units
    # (gummies, tablets) in one labelled dose.
    "daily_amount_g",
    "serving_size_g",
    "units_per_dose",
    "coa",
}
# Label amounts that must be positive numbers when given.
POSITIVE_PRODUCT_KEYS = ("label_amount_mg", "daily_amount_g", "serving_size_g", "units_per_dose")
COA_KEYS = {"lot", "tested_on", "lab_accredited", "results"}


def _string_list(data: Mapping, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IntakeError(f"'{key}' must be a list of strings.")
    return value


def parse_intake(data: Any, *, today: datetime.date) -> Intake:
    """Validate a JSON intake (DESIGN.md, "The screening engine") into an Intake."""
    if not isinstance(data, dict):
        raise IntakeError("The intake must be a JSON object.")
    unknown = sorted(set(data) - INTAKE_KEYS)
    if unknown:
        raise IntakeError(
            f"Unknown key(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(INTAKE_KEYS))}."
        )
    on = today
    if "on" in data:
        try:
            on = datetime.date.fromisoformat(data["on"])
        except (TypeError, ValueError):
            raise IntakeError("'on' must be a date written YYYY-MM-DD.") from None
    substances = [s.strip().lower() for s in _string_list(data, "substances")]
    bad = sorted(set(substances) - AGENTS)
    if bad:
        raise IntakeError(f"Unknown substance(s): {', '.join(bad)}. Allowed: kratom, melatonin.")
    medications = [m.strip() for m in _string_list(data, "medications") if m.strip()]
    if len(medications) > 100 or any(len(m) > 200 for m in medications):
        raise IntakeError("'medications' takes at most 100 names of at most 200 characters.")
    factors = _string_list(data, "factors")
    bad = sorted(set(factors) - FACTORS)
    if bad:
        raise IntakeError(
            f"Unknown factor code(s): {', '.join(bad)}. Allowed: {', '.join(sorted(FACTORS))}."
        )
    age = data.get("age_years")
    if age is not None and (
        isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 130
    ):
        raise IntakeError("'age_years' must be a whole number from 0 to 130.")
    jurisdiction = data.get("jurisdiction")
    if jurisdiction is not None and (not isinstance(jurisdiction, str) or len(jurisdiction) > 60):
        raise IntakeError("'jurisdiction' must be a code such as US-AL or GB.")
    products = data.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
        raise IntakeError("'products' must be a list of objects.")
    products = [_parse_product(p, n) for n, p in enumerate(products, start=1)]
    legal_checks = _parse_legal_checks(data.get("legal_check"))
    return Intake(
        on=on,
        substances=frozenset(substances),
        medications=tuple(medications),
        age_years=age,
        factors=frozenset(factors),
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
        products=tuple(products),
        legal_checks=legal_checks,
    )


def _parse_legal_checks(value: Any) -> dict[str, dict[str, Any]]:
    """The clinician's own checks of the law: one {"consulted", "on"} for every agent, or
    one per agent ({"kratom": {...}, "melatonin": {...}}), as the checklist records them."""
    if value is None:
        return {}
    shape = '\'legal_check\' must be {"consulted": text, "on": date}, or one per substance'
    if not isinstance(value, dict):
        raise IntakeError(f"{shape}.")
    if set(value) == {"consulted", "on"}:
        return dict.fromkeys(sorted(AGENTS), _legal_check(value, "legal_check"))
    if not value or set(value) - AGENTS:
        raise IntakeError(f"{shape} (kratom, melatonin).")
    return {agent: _legal_check(check, f"legal_check.{agent}") for agent, check in value.items()}


def _legal_check(check: Any, where: str) -> dict[str, Any]:
    if not isinstance(check, dict) or set(check) != {"consulted", "on"}:
        raise IntakeError(f'\'{where}\' must be {{"consulted": text, "on": date}}.')
    return {"consulted": str(check["consulted"]), "on": _date(check["on"], f"{where}.on")}


def _date(value: Any, where: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise IntakeError(f"'{where}' must be a date written YYYY-MM-DD.") from None


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    """A finite number of 0 or more (more than 0 when `positive`): JSON may carry NaN or
    Infinity, and no amount or result is negative."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise IntakeError(f"'{where}' must be a number.")
    if value < 0 or (positive and value == 0):
        more = "more than 0" if positive else "0 or more"
        raise IntakeError(f"'{where}' must be {more}.")
    return float(value)


def _parse_product(product: dict, n: int) -> dict:
    where = f"products[{n - 1}]"
    unknown = sorted(set(product) - PRODUCT_KEYS)
    if unknown:
        raise IntakeError(f"{where}: unknown key(s) {', '.join(unknown)}.")
    if product.get("substance") not in AGENTS:
        raise IntakeError(f"{where}.substance must be kratom or melatonin.")
    parsed = dict(product)
    for key in POSITIVE_PRODUCT_KEYS:
        if product.get(key) is not None:
            parsed[key] = _number(product[key], f"{where}.{key}", positive=True)
    coa = product.get("coa")
    if coa is not None:
        if not isinstance(coa, dict) or set(coa) - COA_KEYS:
            keys = ", ".join(sorted(COA_KEYS))
            raise IntakeError(f"{where}.coa must be an object with keys {keys}.")
        parsed["coa"] = dict(coa)
        if coa.get("tested_on") is not None:
            parsed["coa"]["tested_on"] = _date(coa["tested_on"], f"{where}.coa.tested_on")
        results = coa.get("results", {})
        if not isinstance(results, dict):
            raise IntakeError(f"{where}.coa.results must be an object.")
        for analyte, value in results.items():
            if not isinstance(value, str):
                _number(value, f"{where}.coa.results.{analyte}")
    return parsed


def intake_from_answers(
    items: Iterable,
    answers: Mapping[str, Any],
    *,
    on: datetime.date,
    birth_year: int | None = None,
    place: str | None = None,
) -> Intake:
    """Build an intake from a checklist's answers, using each item's `screening` mapping.

    Roles: "substances" and "factors" map answer codes to agents or factor codes;
    "medications" takes the medication rows; "jurisdiction" and "products" pass through.
    A birth year on the case adds the age bands it may imply (youngest and oldest
    possible age, so an 18th birthday later this year still counts as under 18); the case's
    `place` stands for the jurisdiction until the question is answered (a draft shows the
    place's legal table and cautions at once; signing needs the answer itself).
    """
    found = _by_role(items, answers)
    factors = set(found["factors"])
    age = None
    if birth_year:
        # The youngest the patient can be: a birthday later this year still counts.
        age = max(on.year - birth_year - 1, 0)
        if on.year - birth_year >= 65:
            factors.add(VariabilityRule.Factor.AGE_65_PLUS)
    return Intake(
        on=on,
        substances=frozenset(found["substances"]),
        medications=tuple(found["medications"]),
        age_years=age,
        factors=frozenset(factors),
        jurisdiction=found["jurisdiction"] or place or None,
        products=tuple(found["products"]),
        legal_checks=_answered_legal_checks(found["legal_sources"], found["legal_dates"]),
    )


def _by_role(items: Iterable, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What the visible answers say, gathered by their items' screening roles. Legal check
    sources and dates are per agent ("" for an older version's one check for every agent)."""
    items = list(items)
    answers = effective_answers(items, answers)
    found: dict[str, Any] = {
        "substances": set(),
        "factors": set(),
        "medications": [],
        "jurisdiction": None,
        "products": (),
        "legal_sources": {},
        "legal_dates": {},
    }
    for item in items:
        rule, value = item.screening, answers.get(item.key)
        if not rule or value is None:
            continue
        role = rule["role"]
        chosen = value if isinstance(value, list) else [value]
        if role in ("substances", "factors"):
            found[role].update(rule["map"][c] for c in chosen if c in rule["map"])
        elif role == "medications":
            found["medications"] += [row["name"] for row in value if row.get("name")]
        elif role in ("jurisdiction", "products"):
            found[role] = value
        elif role in ("legal_check_source", "legal_check_date"):
            kind = "legal_sources" if role == "legal_check_source" else "legal_dates"
            found[kind][rule.get("substance", "")] = value
    return found


def _answered_legal_checks(sources: dict[str, Any], dates: dict[str, Any]) -> dict[str, Any]:
    """The clinician's own checks of the law, per agent, each when both its source and a
    valid date are given. An older version's single check ("") covers every agent."""
    checks = {}
    for agent, source in sources.items():
        try:
            on = datetime.date.fromisoformat(dates.get(agent))
        except (TypeError, ValueError):
            continue
        if source:
            for each in [agent] if agent else sorted(AGENTS):
                checks[each] = {"consulted": source, "on": on}
    return checks
