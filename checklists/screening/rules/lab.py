"""Supplier lab testing: each product against its lot's certificate of analysis (COA)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...models.content import Severity
from ..flags import Flag
from ..intake import Intake
from ..knowledge import Limit

PROBLEM = "product-quality"
ABSENT_WORDS = {"absent", "not detected", "negative", "nd", "none detected"}
COA_MAX_AGE_DAYS = 365


def lab_flags(intake: Intake, limits: list[Limit]) -> list[Flag]:
    """The supplier lab-testing checks of each product against its lot's COA."""
    flags: list[Flag] = []
    for n, product in enumerate(intake.products, start=1):
        flags += _product_flags(intake.on, product, n, limits)
    return flags


@dataclass(frozen=True)
class _Product:
    """How one product's flags are named: its lot in the code, name and lot in the title."""

    key: str
    where: str

    @classmethod
    def of(cls, product: Mapping[str, Any], n: int) -> _Product:
        key = "".join(str(product.get("label_lot") or f"product-{n}").split())[:60]
        name = product.get("name") or f"{product.get('substance', 'product')} product {n}"
        return cls(key, f"{name} (lot {product.get('label_lot') or 'not recorded'})")

    def flag(
        self, check: str, severity: str, title: str, advice: str, sources: Iterable[str] = ()
    ) -> Flag:
        return Flag(
            code=f"lab:{self.key}:{check}",
            category="lab",
            severity=severity,
            title=f"{title}: {self.where}",
            advice=advice,
            sources=tuple(sources),
            problem=PROBLEM,
            names=(self.where,),
            kind="product",
        )


def _product_flags(
    on: datetime.date, product: Mapping[str, Any], n: int, limits: list[Limit]
) -> list[Flag]:
    about = _Product.of(product, n)
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
    flags += _certificate_flags(on, product, coa, about)
    flags += _result_flags(product, coa.get("results") or {}, limits, about)
    return flags


def _certificate_flags(
    on: datetime.date, product: Mapping[str, Any], coa: Mapping[str, Any], about: _Product
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


def _result_flags(
    product: Mapping[str, Any],
    results: Mapping[str, Any],
    limits: list[Limit],
    about: _Product,
) -> list[Flag]:
    """Each of the substance's limits: a required result missing, or a result outside it."""
    flags = []
    for limit in limits:
        if limit.substance != product.get("substance"):
            continue
        value = results.get(limit.analyte)
        if value is None or value == "":
            if limit.required:
                flags.append(
                    about.flag(
                        f"missing:{limit.analyte}",
                        Severity.MODERATE,
                        f"No result for {limit.label}",
                        "Ask the supplier for a COA that reports this analyte.",
                        limit.sources,
                    )
                )
            continue
        if _limit_fails(limit, value, product):
            shown = f"{value} {limit.unit}".strip()
            flags.append(
                about.flag(
                    limit.analyte,
                    limit.severity,
                    f"{limit.label} outside its limit ({shown})",
                    "Advise the patient not to use this lot and to return or discard it.",
                    limit.sources,
                )
            )
    return flags


def _same_lot(a: Any, b: Any) -> bool:
    return (
        bool(a) and bool(b) and "".join(str(a).split()).upper() == "".join(str(b).split()).upper()
    )


def _limit_fails(limit: Limit, value: Any, product: Mapping[str, Any]) -> bool | None:
    """True when the result breaks the limit; None when it cannot be judged."""
    if limit.comparison == "absent":
        return str(value).strip().lower() not in ABSENT_WORDS
    if isinstance(value, str):
        return None
    if limit.comparison == "below":
        return value >= limit.limit
    if limit.comparison in ("max", "max_pct_of_alkaloids"):
        return value > limit.limit
    if limit.comparison == "within_pct_of_label":
        label = product.get("label_amount_mg")
        if not label:
            return None
        return abs(value - label) / label * 100 > limit.limit
    return False  # "required": any reported value passes
