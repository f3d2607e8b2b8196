"""Supplier lab testing: each product against its lot's certificate of analysis (COA).

How a result is graded (issue 17, "the same evidence graded the same way" as the checklist
items of the supplier and lab section):

- a result outside its limit: the limit's own `severity_on_fail` (contraindicated for a
  contaminant, an adulterant or 7-OH over a limit in force);
- a required result the certificate leaves out: as if the lot were untested for it, so
  major where failing would be contraindicated (no certificate at all is major, and the
  items `coa_contaminants_pass`, `kratom_7oh_share` and `kratom_adulterants_absent` grade
  "not shown" major), otherwise the limit's own severity;
- analytes of one panel (the kratom adulterant panel, melatonin purity) left out raise one
  flag for the panel, naming what is missing.

7-OH in any unit against the limit where the patient lives is `lab_seven_oh`; metals as
daily intake and melatonin per gummy are `lab_amounts`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from ...models.content import Severity
from ..flags import Flag
from ..intake import Intake
from ..knowledge import LegalRow, Limit
from . import lab_amounts, lab_seven_oh
from .lab_common import PROBLEM, LabProduct, fmt, is_absent, missing_severity, number, reported

__all__ = ["PROBLEM", "lab_flags"]

COA_MAX_AGE_DAYS = 365
# A result that stands in for a required one: melatonin per gummy for melatonin per dose.
STANDS_IN_FOR = {"melatonin_mg_measured": ("melatonin_mg_per_unit",)}
PANEL_LABELS = {
    "kratom-adulterants": "Adulterant panel (added opioids, benzodiazepines, 7-OH derivatives)",
    "melatonin-purity": "Purity panel (serotonin, CBD)",
}


def lab_flags(intake: Intake, limits: list[Limit], legal: Iterable[LegalRow] = ()) -> list[Flag]:
    """The supplier lab-testing checks of each product against its lot's COA; `legal` are
    the legal rows in effect where the patient lives (for 7-OH limits)."""
    legal = list(legal)
    flags: list[Flag] = []
    for n, product in enumerate(intake.products, start=1):
        flags += _product_flags(intake.on, product, n, limits, legal)
    return flags


def _product_flags(
    on: datetime.date,
    product: Mapping[str, Any],
    n: int,
    limits: list[Limit],
    legal: list[LegalRow],
) -> list[Flag]:
    about = LabProduct.of(product, n)
    flags = []
    if product.get("form") == "concentrated_7oh":
        flags.append(
            about.flag(
                "concentrated-7oh",
                Severity.CONTRAINDICATED,
                "Concentrated 7-OH product",
                "Concentrated or semi-synthetic 7-OH products act like potent opioids and are "
                "being scheduled in several places. Advise stopping, and assess for opioid "
                "dependence before doing so.",
            )
        )
    coa = product.get("coa")
    if not coa:
        flags.append(
            about.flag(
                "no-coa",
                Severity.MAJOR,
                "No certificate of analysis for this lot",
                "Ask the supplier for the lot-specific COA from an independent accredited lab, "
                "or advise a product whose lot has one.",
            )
        )
        return flags
    results = coa.get("results") or {}
    mine = [limit for limit in limits if limit.substance == product.get("substance")]
    flags += _certificate_flags(on, product, coa, about)
    flags += _result_flags(results, mine, about)
    flags += lab_seven_oh.seven_oh_flags(product, results, mine, legal, about)
    flags += lab_amounts.amount_flags(product, results, mine, about)
    return flags


def _certificate_flags(
    on: datetime.date, product: Mapping[str, Any], coa: Mapping[str, Any], about: LabProduct
) -> list[Flag]:
    """Whether the certificate can speak for this lot: its lot, its age, its lab."""
    flags = []
    if not _same_lot(coa.get("lot"), product.get("label_lot")):
        flags.append(
            about.flag(
                "lot-mismatch",
                Severity.MAJOR,
                "The COA is not for the lot on the label",
                f"The COA names lot {coa.get('lot') or 'none'}; the label says "
                f"{product.get('label_lot') or 'nothing'}. A COA for another lot says nothing "
                "about this one.",
            )
        )
    tested = coa.get("tested_on")
    if tested is None or (on - tested).days > COA_MAX_AGE_DAYS:
        flags.append(
            about.flag(
                "coa-old",
                Severity.MODERATE,
                "The COA is older than 12 months or undated",
                "Ask for a current certificate; products and contamination change between "
                "batches and over time.",
            )
        )
    if not coa.get("lab_accredited"):
        flags.append(
            about.flag(
                "lab-not-accredited",
                Severity.MODERATE,
                "The testing lab's ISO/IEC 17025 accreditation is missing or unknown",
                "Prefer results from an independent lab accredited for these methods.",
            )
        )
    return flags


def _result_flags(results: Mapping[str, Any], limits: list[Limit], about: LabProduct) -> list[Flag]:
    """Each of the substance's limits: a required result missing, or a result outside it.
    7-OH, daily intake and amounts per unit are checked by their own modules."""
    flags = []
    panels: dict[str, list[Limit]] = {}
    for limit in limits:
        if limit.analyte in lab_seven_oh.SEVEN_OH_KEYS:
            continue
        if not reported(results, limit.analyte):
            stood_in = any(reported(results, a) for a in STANDS_IN_FOR.get(limit.analyte, ()))
            if limit.panel and limit.required:
                panels.setdefault(limit.panel, []).append(limit)
            elif limit.required and not stood_in:
                flags.append(_missing_flag(limit, about))
            continue
        if _limit_fails(limit, results[limit.analyte]):
            flags.append(_fail_flag(limit, results[limit.analyte], about))
    return flags + [_panel_flag(panel, missing, limits, about) for panel, missing in panels.items()]


def _missing_flag(limit: Limit, about: LabProduct) -> Flag:
    return about.flag(
        f"missing:{limit.analyte}",
        missing_severity(limit),
        f"No result for {limit.label}",
        "Ask the supplier for a COA that reports this analyte; until then treat the lot as "
        "untested for it.",
        limit.sources,
    )


def _fail_flag(limit: Limit, value: Any, about: LabProduct) -> Flag:
    if limit.comparison == "absent":
        amount = number(value)  # "detected", or how much was found
        found = f" ({fmt(amount)} {limit.unit})".replace(" )", ")") if amount is not None else ""
        return about.flag(
            limit.analyte,
            limit.severity,
            f"{limit.label} detected{found}",
            _ABSENT_ADVICE.get(limit.panel, _ABSENT_ADVICE[""]),
            limit.sources,
            problem=limit.problem,
            subject=limit.label if limit.problem else "",
        )
    shown = f"{value} {limit.unit}".strip()
    return about.flag(
        limit.analyte,
        limit.severity,
        f"{limit.label} outside its limit ({shown})",
        "Advise the patient not to use this lot and to return or discard it.",
        limit.sources,
        problem=limit.problem,
    )


_ABSENT_ADVICE = {
    "": "Advise the patient not to use this lot and to return or discard it.",
    "kratom-adulterants": (
        "The lot holds a drug the label does not declare, one that adds to opioid or sedative "
        "overdose risk, most of all with the patient's own opioids, benzodiazepines, alcohol or "
        "other sedatives. Advise the patient not to use this lot; offer naloxone where an "
        "opioid was found, and report the product to FDA (MedWatch) or the state regulator."
    ),
    "melatonin-purity": (
        "The lot holds a substance the label may not declare, so its content cannot be "
        "trusted. Advise a licensed or independently verified product instead, and check the "
        "patient's medicines against what was found."
    ),
}


def _panel_flag(panel: str, missing: list[Limit], limits: list[Limit], about: LabProduct) -> Flag:
    """One flag for a panel the certificate leaves out, wholly or in part."""
    members = [limit for limit in limits if limit.panel == panel]
    label = PANEL_LABELS.get(panel, panel)
    whole = len(missing) == len(members)
    names = ", ".join(limit.label for limit in missing)
    sources = dict.fromkeys(s for limit in missing for s in limit.sources)
    return about.flag(
        f"panel-not-reported:{panel}",
        min((missing_severity(limit) for limit in missing), key=Severity.rank),
        f"{label}: {'not reported' if whole else 'partly reported'}",
        f"The certificate does not report: {names}. Each must be absent; until a result "
        "shows it, treat the lot as untested for it and ask the supplier for the panel.",
        tuple(sources),
    )


def _same_lot(a: Any, b: Any) -> bool:
    return (
        bool(a) and bool(b) and "".join(str(a).split()).upper() == "".join(str(b).split()).upper()
    )


def _limit_fails(limit: Limit, value: Any) -> bool | None:
    """True when the result breaks the limit; None when it cannot be judged here."""
    if limit.comparison == "absent":
        return not is_absent(value)
    if isinstance(value, str):
        return None
    if limit.comparison == "below":
        return value >= limit.limit
    if limit.comparison in ("max", "max_pct_of_alkaloids"):
        return value > limit.limit
    return False  # "required": any reported value passes; amounts per label: lab_amounts
