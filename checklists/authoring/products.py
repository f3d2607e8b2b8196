"""Products from `content/knowledge/products.json` (issue 17): combination products and
brand lines, each naming its ingredients, checked against its label.

Loaded by `loaders.load_knowledge` after the substances (a product names them) and with
the same rule for names: a normalised name belongs to one row only, product or substance.
Idempotent like the other loaders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models import Source, Substance
from .files import ContentError, read_json
from .loaders import _as_date, _load_names, _set_sources, _upsert

REQUIRED = ("key", "name", "ingredients", "sources", "source_says", "reviewed_on", "review_by")


def load_products(
    directory: Path,
    by_key: dict[str, Substance],
    sources: dict[str, Source],
    taken: dict[str, str],
) -> int:
    """Insert or update every product, its names, ingredients and sources; returns rows
    changed. `by_key` holds the substances loaded before; `taken` the names they hold."""
    path = directory / "products.json"
    if not path.exists():
        return 0
    changed = 0
    for row in read_json(path):
        where = f"product {row.get('key')!r}"
        missing = [k for k in REQUIRED if not row.get(k)]
        if missing:
            raise ContentError(f"{where}: missing {missing}")
        if row["key"] in by_key:
            raise ContentError(f"{where}: the key is already a substance's")
        product, did = _upsert(
            Substance,
            {"key": row["key"]},
            {
                "name": row["name"],
                "kind": Substance.Kind.PRODUCT,
                "source_says": row["source_says"],
                "reviewed_on": _as_date(row["reviewed_on"]),
                "review_by": _as_date(row["review_by"]),
            },
        )
        changed += did + _load_names(product, row, taken)
        _set_sources(product, row["sources"], sources, where)
        changed += _set_ingredients(product, row, by_key, where)
    return changed


def _set_ingredients(
    product: Substance, row: dict[str, Any], by_key: dict[str, Substance], where: str
) -> int:
    unknown = [k for k in row["ingredients"] if k not in by_key]
    if unknown:
        raise ContentError(f"{where}: unknown ingredient(s) {unknown}")
    wanted = {by_key[k] for k in row["ingredients"]}
    reasons = product.ingredient_problems(wanted, product.classes.all(), product.sources.all())
    if reasons:
        raise ContentError(f"{where}: {' '.join(reasons)}")
    if set(product.ingredients.all()) != wanted:
        product.ingredients.set(wanted)
        return 1
    return 0
