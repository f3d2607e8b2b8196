"""What the lab modules share: how a product's flags are named, and how a result left out
or reported as absent is read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...models.content import Severity
from ..flags import Flag
from ..knowledge import Limit

PROBLEM = "product-quality"
ABSENT_WORDS = {
    "absent",
    "not detected",
    "negative",
    "nd",
    "none detected",
    "<loq",
    "< loq",
    "below loq",
    "<lod",
    "< lod",
    "below lod",
}


@dataclass(frozen=True)
class LabProduct:
    """How one product's flags are named: its lot in the code, name and lot in the title."""

    key: str
    where: str

    @classmethod
    def of(cls, product: Mapping[str, Any], n: int) -> LabProduct:
        key = "".join(str(product.get("label_lot") or f"product-{n}").split())[:60]
        name = product.get("name") or f"{product.get('substance', 'product')} product {n}"
        return cls(key, f"{name} (lot {product.get('label_lot') or 'not recorded'})")

    def flag(
        self,
        check: str,
        severity: str,
        title: str,
        advice: str,
        sources: Iterable[str] = (),
        *,
        problem: str = "",
        subject: str = "",
    ) -> Flag:
        """A lab flag about this product; `subject` (what was found in it) names it in the
        problem's title when the flag belongs to another problem than product quality."""
        return Flag(
            code=f"lab:{self.key}:{check}",
            category="lab",
            severity=severity,
            title=f"{title}: {self.where}",
            advice=advice,
            sources=tuple(sources),
            problem=problem or PROBLEM,
            names=(f"{subject} in {self.where}" if subject else self.where,),
            kind="product",
        )


def missing_severity(limit: Limit) -> str:
    """A required result left out counts as untested: major where failing it would be
    contraindicated (as for no certificate at all), otherwise the limit's own grade."""
    return Severity.MAJOR if limit.severity == Severity.CONTRAINDICATED else limit.severity


def reported(results: Mapping[str, Any], analyte: str) -> bool:
    return results.get(analyte) not in (None, "")


def is_absent(value: Any) -> bool:
    """A "must be absent" result that shows absence: a word such as "not detected" or
    "<LOQ", or the number 0."""
    if isinstance(value, int | float):
        return value == 0
    return str(value).strip().lower() in ABSENT_WORDS


def number(value: Any) -> float | None:
    """A numeric result, or None for a word ("<LOQ", "pass") that cannot be compared."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def fmt(value: float) -> str:
    """A figure as a clinician reads it: 4 significant digits, no exponent, no trailing
    zeros ("1,250", "0.8", "0.00025")."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.4g}"
    if "e" in text:
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text
