"""7-OH on a kratom certificate, in any unit, against the limit where the patient lives.

A certificate gives 7-hydroxymitragynine as a share of total alkaloids (%), as ppm, as mg
per gram or as mg per serving. Units convert as follows (ppm is mg per kg):

    1 mg/g = 1,000 ppm = 0.1 % w/w;   mg per serving = mg/g × serving size (g).

A share of alkaloids converts to none of the others (that needs the lot's total alkaloid
content), so it is compared only with limits set as a share.

The legal table's rows carry the figures a statute sets (issue 17; set only where the text
was read): a limit in force makes a lot over it unlawful to sell there, graded as the
general check (contraindicated); a proposed one (DEA's 2026 notice of intent) is not law,
so a lot over it is major: a warning that it looks like an enhanced product, not a finding
that it is unlawful. Where no limit in force is set as a share of alkaloids, the general
check (at most 2 % of alkaloids, `lab/limits.json`) runs as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...models.content import Severity
from ..flags import Flag
from ..knowledge import LegalRow, Limit, SevenOhLimit
from .lab_common import LabProduct, fmt, is_absent, missing_severity, number, reported

GENERAL = "seven_oh_pct_of_alkaloids"
SEVEN_OH_KEYS = (GENERAL, "seven_oh_ppm", "seven_oh_mg_per_g", "seven_oh_mg_per_serving")
# The dimensions a limit and a result can share: (figure key, SevenOhLimit field, unit).
DIMENSIONS = (
    ("pct", "pct_of_alkaloids", "% of total alkaloids"),
    ("mg_per_g", "mg_per_g", "mg/g"),
    ("mg_per_serving", "mg_per_serving", "mg per serving"),
)


@dataclass(frozen=True)
class Figure:
    """A 7-OH figure of the lot, in one dimension, and how it was reached."""

    value: float
    unit: str
    how: str = ""

    def text(self) -> str:
        return f"{_amount(self.value, self.unit)}" + (f" ({self.how})" if self.how else "")


def _amount(value: float, unit: str) -> str:
    """A figure with its unit; mg/g also as ppm and % w/w, so any COA's unit is recognised."""
    if unit == "mg/g":
        return f"{fmt(value)} mg/g = {fmt(value * 1000)} ppm = {fmt(value / 10)} % w/w"
    return f"{fmt(value)} {unit}"


def measured(product: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Figure]:
    """The lot's 7-OH in every dimension the certificate and the label allow."""
    figures: dict[str, Figure] = {}
    pct = number(results.get(GENERAL))
    if pct is not None:
        figures["pct"] = Figure(pct, "% of total alkaloids", "as reported")
    per_g, ppm = number(results.get("seven_oh_mg_per_g")), number(results.get("seven_oh_ppm"))
    if per_g is not None:
        figures["mg_per_g"] = Figure(per_g, "mg/g", "as reported")
    elif ppm is not None:
        figures["mg_per_g"] = Figure(ppm / 1000, "mg/g", f"from {fmt(ppm)} ppm as reported")
    serving = number(results.get("seven_oh_mg_per_serving"))
    size = product.get("serving_size_g")
    if serving is not None:
        figures["mg_per_serving"] = Figure(serving, "mg per serving", "as reported")
    elif "mg_per_g" in figures and size:
        per = figures["mg_per_g"].value
        figures["mg_per_serving"] = Figure(
            per * size, "mg per serving", f"{fmt(per)} mg/g × {fmt(size)} g serving"
        )
    if "mg_per_g" not in figures and serving is not None and size:
        figures["mg_per_g"] = Figure(
            serving / size, "mg/g", f"{fmt(serving)} mg per serving ÷ {fmt(size)} g serving"
        )
    return figures


def seven_oh_flags(
    product: Mapping[str, Any],
    results: Mapping[str, Any],
    limits: list[Limit],
    legal: list[LegalRow],
    about: LabProduct,
) -> list[Flag]:
    """The lot's 7-OH against each limit where the patient lives, then the general check."""
    general = next((limit for limit in limits if limit.analyte == GENERAL), None)
    if general is None:
        return []  # not a kratom product: no 7-OH checks
    figures = measured(product, results)
    rows = _limit_rows(legal)
    # The strictest limit in force per dimension: a proposal no stricter adds nothing to it.
    in_force: dict[str, float] = {}
    for row in rows:
        for key, field, _ in DIMENSIONS:
            cap = getattr(row.seven_oh, field)
            if row.seven_oh.in_force and cap is not None:
                in_force[key] = min(cap, in_force.get(key, cap))
    flags: list[Flag] = []
    compared = False
    for row in rows:
        found, did = _place_flags(row, figures, general, about, in_force)
        flags += found
        compared = compared or did
    if not figures and any(reported(results, key) for key in SEVEN_OH_KEYS):
        return flags + _word_flags(results, general, about)
    return flags + _general_flags(figures, general, "pct" in in_force, compared, about)


def _word_flags(results: Mapping[str, Any], general: Limit, about: LabProduct) -> list[Flag]:
    """7-OH given as words only: below quantitation ("<LOQ", "not detected") is within any
    limit; any other word ("pass") cannot be compared."""
    words = [str(results[key]) for key in SEVEN_OH_KEYS if reported(results, key)]
    if all(is_absent(word) for word in words):
        return []
    return [
        about.flag(
            "seven-oh:not-a-number",
            Severity.MODERATE,
            f"7-OH result not a figure ({', '.join(words)})",
            "A word such as 'pass' cannot be compared with a limit. Ask for 7-OH as a figure "
            f"(% of total alkaloids, ppm, mg/g or mg per serving); the general limit is "
            f"{fmt(general.limit)} % of total alkaloids.",
            general.sources,
        )
    ]


def _limit_rows(legal: list[LegalRow]) -> list[LegalRow]:
    """Rows with a 7-OH limit, the place itself first; one per place and limit (a place
    may repeat a limit on its kratom and its 7-OH row)."""
    seen, rows = set(), []
    for row in sorted(legal, key=lambda r: r.depth):
        if row.seven_oh is not None and (row.jurisdiction, row.seven_oh) not in seen:
            seen.add((row.jurisdiction, row.seven_oh))
            rows.append(row)
    return rows


def _place_flags(
    row: LegalRow,
    figures: dict[str, Figure],
    general: Limit,
    about: LabProduct,
    in_force: dict[str, float],
) -> tuple[list[Flag], bool]:
    """A row's limit in each dimension it sets; whether any figure could be compared. A
    proposed limit is skipped where a limit in force is as strict or stricter."""
    limit: SevenOhLimit = row.seven_oh
    flags, compared, unmatched = [], False, []
    for key, field, unit in DIMENSIONS:
        cap = getattr(limit, field)
        if cap is None or (not limit.in_force and in_force.get(key, float("inf")) <= cap):
            continue
        figure = figures.get(key)
        if figure is None:
            unmatched.append(_amount(cap, unit))
            continue
        compared = True
        if figure.value > cap:
            flags.append(_over_flag(row, key, figure, _amount(cap, unit), general, about))
    if limit.in_force and figures and not compared:
        flags.append(_not_comparable_flag(row, figures, unmatched, about))
    return flags, compared


def _over_flag(
    row: LegalRow, key: str, figure: Figure, cap: str, general: Limit, about: LabProduct
) -> Flag:
    law = row.seven_oh.law
    if row.seven_oh.in_force:
        title = f"7-OH over the limit in {row.place} ({law}): {figure.text()}, limit {cap}"
        advice = (
            f"{row.place}'s law ({law}) allows at most {cap} of 7-OH; this lot has "
            f"{figure.text()}. A lot over the limit may not be sold there as a kratom product, "
            "and 7-OH this high can point to an enhanced or semi-synthetic product that acts "
            "like a potent opioid. Advise against it, and assess for opioid dependence before "
            "the patient stops."
        )
        severity = general.severity
    else:
        title = (
            f"7-OH over the threshold proposed for {row.place} ({law}; not in force): "
            f"{figure.text()}, threshold {cap}"
        )
        advice = (
            f"{law} proposes to control 7-OH above {cap}; this is a proposal, not law in force. "
            f"This lot has {figure.text()}. The threshold was set to leave natural leaf alone, "
            "so leaf powder above it looks enhanced (an extract concentrates every alkaloid: "
            "judge it by its 7-OH share of alkaloids too). Advise against it and check the "
            "current federal status."
        )
        severity = Severity.MAJOR
    return about.flag(f"seven-oh:{row.jurisdiction}:{key}", severity, title, advice, row.sources)


def _not_comparable_flag(
    row: LegalRow, figures: dict[str, Figure], unmatched: list[str], about: LabProduct
) -> Flag:
    given = "; ".join(f.text() for f in figures.values())
    return about.flag(
        f"seven-oh:{row.jurisdiction}:units",
        Severity.MODERATE,
        f"7-OH not checked against the limit in {row.place} ({row.seven_oh.law})",
        f"The law sets 7-OH at most {' and '.join(unmatched)}; the certificate gives {given}, "
        "which does not convert to it. Ask for 7-OH in the law's unit, or record the "
        "product's serving size so per-gram and per-serving figures convert.",
        row.sources,
    )


def _general_flags(
    figures: dict[str, Figure],
    general: Limit,
    superseded: bool,
    compared: bool,
    about: LabProduct,
) -> list[Flag]:
    """The general check where the place sets no share of its own: at most `general.limit`
    % of total alkaloids; no 7-OH result at all is a missing required result."""
    if not figures:
        return [
            about.flag(
                f"missing:{GENERAL}",
                missing_severity(general),
                "No result for 7-OH (as % of total alkaloids, ppm, mg/g or mg per serving)",
                "Ask the supplier for a COA that quantifies 7-OH; until then treat the lot as "
                "untested for it.",
                general.sources,
            )
        ]
    share = figures.get("pct")
    if share is not None and not superseded and share.value > general.limit:
        return [
            about.flag(
                GENERAL,
                general.severity,
                f"{general.label} outside its limit ({fmt(share.value)} %, at most "
                f"{fmt(general.limit)} %)",
                f"Kratom consumer-protection laws and the industry GMP standard cap 7-OH at "
                f"{fmt(general.limit)} % of the alkaloids; leaf carries far less. Treat it as an "
                "enhanced or semi-synthetic product: advise against it, and assess for opioid "
                "dependence before the patient stops.",
                general.sources,
            )
        ]
    if share is None and not compared:
        given = "; ".join(f.text() for f in figures.values())
        return [
            about.flag(
                "seven-oh:units",
                Severity.MODERATE,
                "7-OH not reported as a share of total alkaloids",
                f"The certificate gives {given}. The general check is a share of total "
                f"alkaloids (at most {fmt(general.limit)} %), and no 7-OH limit where the "
                "patient lives uses the unit given. Ask for 7-OH as % of total alkaloids.",
                general.sources,
            )
        ]
    return []
