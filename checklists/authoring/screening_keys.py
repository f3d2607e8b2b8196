"""An item's `screening` mapping: the roles it may play in screening and the keys each
carries (content README: "Other `screening` keys"), refused with the reason when malformed."""

from __future__ import annotations

import re

from ..models import Agent, VariabilityRule
from .checks import ContentError, check_type

SLUG = re.compile(r"[a-z0-9][a-z0-9_]*")
SCREENING_ROLES = {
    # a yes/no question the medicine list also answers: "classes" names what answers it
    "medicine_question",
    "substances",
    "factors",
    "medications",
    "jurisdiction",
    "products",
    "legal_check_source",
    "legal_check_date",
    # the plan's monitoring: {"problems": {problem key: [option codes]}} suggested by the
    # problems the cautions raise (issue 18)
    "monitoring",
}


def check_screening(screening: dict | None, codes: list[str], where: str) -> None:
    """An item's screening role, and a map from its own codes to known agents or factors."""
    if screening is None:
        return
    if screening.get("role") not in SCREENING_ROLES:
        raise ContentError(f"{where}: unknown screening role {screening.get('role')!r}")
    unknown = set(screening.get("map", {})) - set(codes or ["yes", "no", "unknown"])
    if unknown:
        raise ContentError(f"{where}: screening maps unknown codes {sorted(unknown)}")
    allowed = {
        "substances": set(Agent.values),
        "factors": set(VariabilityRule.Factor.values),
    }.get(screening["role"])
    if allowed is not None and set(screening.get("map", {}).values()) - allowed:
        raise ContentError(f"{where}: screening maps to unknown agents or factors")
    problems = screening.get("problems", {})
    check_type(problems, dict, where, "'screening.problems'")
    for problem, suggested in problems.items():
        check_type(suggested, list, where, f"'screening.problems.{problem}'")
        if not SLUG.fullmatch(problem.replace("-", "_")) or set(suggested) - set(codes):
            raise ContentError(
                f"{where}: 'screening.problems' maps problem keys to the item's own options"
            )
    if "substance" in screening and screening["substance"] not in Agent.values:
        raise ContentError(f"{where}: screening names an unknown substance")
    ages = screening.get("ages", {})
    check_type(ages, dict, where, "'screening.ages'")
    if set(ages) - set(codes) or not all(
        isinstance(span, list)
        and len(span) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in span)
        and span[0] <= span[1]
        for span in ages.values()
    ):
        raise ContentError(
            f"{where}: 'screening.ages' maps the item's own option codes to [youngest, oldest]"
        )
