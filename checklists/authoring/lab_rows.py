"""The lab figures of the content files, checked as they load (issue 17): a legal row's 7-OH
limit and a lab limit's problem and daily exposure. Loading itself is `loaders`."""

from __future__ import annotations

from typing import Any

from .files import ContentError

SEVEN_OH_LIMIT_FIELDS = (
    "seven_oh_max_pct_of_alkaloids",
    "seven_oh_max_mg_per_g",
    "seven_oh_max_mg_per_serving",
)


def seven_oh_limit(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A legal row's 7-OH limit (issue 17): figures only with a status (in force or
    proposed) and the law that sets them, so a lab flag can always name both."""
    values = {name: row.get(name) for name in SEVEN_OH_LIMIT_FIELDS}
    status, law = row.get("seven_oh_limit_status", ""), row.get("seven_oh_limit_law", "")
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ContentError(f"{where}: {name} must be a number")
    if any(v is not None for v in values.values()) != bool(status and law):
        raise ContentError(
            f"{where}: a 7-OH limit needs seven_oh_limit_status and seven_oh_limit_law, "
            "and they need a limit"
        )
    if status not in ("", "in_force", "proposed"):
        raise ContentError(f"{where}: seven_oh_limit_status must be in_force or proposed")
    return {**values, "seven_oh_limit_status": status, "seven_oh_limit_law": law}


def check_lab_limit(row: dict[str, Any], where: str, problems: set[str]) -> None:
    """A lab limit's problem must be in the catalogue (when one is loaded), and a daily
    exposure is compared with a result in ppm (µg/g) only."""
    if row.get("problem_on_fail") and problems and row["problem_on_fail"] not in problems:
        raise ContentError(f"{where}: unknown problem {row['problem_on_fail']!r}")
    if row.get("pde_ug_per_day") is not None and row.get("unit") != "ppm":
        raise ContentError(f"{where}: a daily exposure needs a result in ppm (µg/g)")
