"""Results that need the label's amounts: metals as a daily intake, melatonin per dose and
per unit.

Metals: a result in ppm is µg per gram of product, so the labelled daily amount (g) times
the result is the µg taken in a day, compared with USP <2232>'s permitted daily exposure
(`pde_ug_per_day` on the lab limit) as well as the concentration limit. Without a daily
amount only the concentration is checked, and one flag says the daily intake could not be
computed.

Melatonin: the measured amount per dose against the labelled amount per dose, or per unit
(a gummy, a tablet) against the labelled amount divided by the units in one dose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...models.content import Severity
from ..flags import Flag
from ..knowledge import Limit
from .lab_common import LabProduct, fmt, missing_severity, number

PER_DOSE, PER_UNIT = "within_pct_of_label", "within_pct_per_unit"
UNIT_NAMES = {"gummy": "gummy", "tablet": "tablet", "capsule": "capsule"}
# What a daily-intake flag must add for one analyte.
NOTES = {
    "arsenic_ppm": (
        " Arsenic is counted as if all of it were inorganic, as USP <2232> allows for a result "
        "that is not speciated; a result for inorganic arsenic alone can show less."
    ),
    "mercury_ppm": " The figure is total mercury, against USP <2232>'s limit for total mercury.",
}


def amount_flags(
    product: Mapping[str, Any], results: Mapping[str, Any], limits: list[Limit], about: LabProduct
) -> list[Flag]:
    return _daily_intake_flags(product, results, limits, about) + _label_flags(
        product, results, limits, about
    )


def _daily_intake_flags(
    product: Mapping[str, Any], results: Mapping[str, Any], limits: list[Limit], about: LabProduct
) -> list[Flag]:
    """Each metal's µg a day at the labelled daily amount against its PDE."""
    measured = [
        (limit, number(results.get(limit.analyte)))
        for limit in limits
        if limit.pde_ug_per_day is not None and number(results.get(limit.analyte)) is not None
    ]
    if not measured:
        return []
    daily = product.get("daily_amount_g")
    if not daily:
        names = ", ".join(limit.label.lower() for limit, _ in measured)
        sources = dict.fromkeys(s for limit, _ in measured for s in limit.sources)
        return [
            about.flag(
                "daily-intake-unknown",
                Severity.MODERATE,
                "Daily metal intake could not be computed: no labelled daily amount",
                f"Only the concentrations of {names} were checked. USP <2232> limits the "
                "amount taken in a day (ppm is µg per gram, times grams a day), so a lot under "
                "a concentration limit can still exceed it at a large daily amount. Record the "
                "label's daily amount in grams, and ask how much the patient really takes.",
                tuple(sources),
            )
        ]
    flags = []
    for limit, ppm in measured:
        intake = ppm * daily
        if intake > limit.pde_ug_per_day:
            sum_ = f"{fmt(ppm)} ppm × {fmt(daily)} g = {fmt(intake)} µg/day"
            flags.append(
                about.flag(
                    f"{limit.analyte}:daily",
                    limit.severity,
                    f"{limit.label} above its permitted daily exposure at the labelled daily "
                    f"amount ({sum_}; USP <2232> allows {fmt(limit.pde_ug_per_day)} µg/day)",
                    f"At the label's daily amount of {fmt(daily)} g this lot gives {sum_} of "
                    f"{limit.label.lower()}, above the {fmt(limit.pde_ug_per_day)} µg/day USP "
                    "<2232> permits from a supplement, even where the concentration is within "
                    "its limit; taking more than the label says gives more. Advise the patient "
                    "not to use this lot." + NOTES.get(limit.analyte, ""),
                    limit.sources,
                    problem=limit.problem,
                )
            )
    return flags


def _label_flags(
    product: Mapping[str, Any], results: Mapping[str, Any], limits: list[Limit], about: LabProduct
) -> list[Flag]:
    """The measured amount per dose or per unit against the label, within `limit.limit` %."""
    flags = []
    for limit in limits:
        if limit.comparison not in (PER_DOSE, PER_UNIT):
            continue
        value = number(results.get(limit.analyte))
        if value is None:
            continue
        label = product.get("label_amount_mg")
        if not label:
            flags.append(
                about.flag(
                    f"{limit.analyte}:no-label",
                    missing_severity(limit),
                    f"{limit.label} not checked: no labelled amount recorded",
                    "Record the amount the label declares per dose (and the units in one dose) "
                    "so the measured content can be compared with it.",
                    limit.sources,
                )
            )
            continue
        expected, basis = _expected(product, limit, label)
        off = (value - expected) / expected * 100
        if abs(off) > limit.limit:
            flags.append(
                about.flag(
                    limit.analyte,
                    limit.severity,
                    f"{limit.label} off the label by {off:+.0f} % ({fmt(value)} mg against "
                    f"{basis}; at most ±{fmt(limit.limit)} %)",
                    "The real dose is not what the label says. Advise a licensed medicine or an "
                    "independently verified product so the dose is known, and keep gummies "
                    "away from children.",
                    limit.sources,
                )
            )
    return flags


def _expected(product: Mapping[str, Any], limit: Limit, label: float) -> tuple[float, str]:
    """The labelled amount the result is compared with, and how it was reached."""
    if limit.comparison == PER_DOSE:
        return label, f"{fmt(label)} mg per dose on the label"
    unit = UNIT_NAMES.get(product.get("form"), "unit")
    units = product.get("units_per_dose")
    if not units:
        return label, (
            f"{fmt(label)} mg per {unit} (the label's amount per dose, taken as one {unit}: "
            "no units per dose recorded)"
        )
    return label / units, (
        f"{fmt(label / units)} mg per {unit} (the label's {fmt(label)} mg per dose of {fmt(units)})"
    )
