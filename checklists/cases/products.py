"""The products a checklist records, as the screening engine takes them: a lot picked from
the team's list brings its product and latest certificate; a typed row has none on file."""

from __future__ import annotations

from ..models import Lot


def lot_label(lot: Lot) -> str:
    product = lot.product
    return (
        f"{product.name} ({product.get_form_display().lower()}), lot {lot.lot_number} · "
        f"{product.supplier.name}"
    )


def resolve_products(rows, team_id: int) -> tuple[dict, ...]:
    """Turn product answers into the screening engine's product objects.

    A row naming one of the team's lots brings the lot's product and its most recent
    certificate of analysis (two queries); a free-text row has no certificate on file.
    """
    ids = [row["lot_id"] for row in rows if "lot_id" in row]
    lots = (
        {
            lot.pk: lot
            for lot in Lot.objects.filter(pk__in=ids, product__supplier__team_id=team_id)
            .select_related("product__supplier")
            .prefetch_related("certificates")
        }
        if ids
        else {}
    )
    products = []
    for row in rows:
        lot = lots.get(row.get("lot_id"))
        if lot is not None:
            latest = max(lot.certificates.all(), key=lambda c: (c.tested_on, c.pk), default=None)
            products.append(
                {
                    "name": lot.product.name,
                    "substance": lot.product.substance,
                    "form": lot.product.form,
                    "label_lot": lot.lot_number,
                    "label_amount_mg": lot.product.labelled_amount_mg,
                    "units_per_dose": lot.product.units_per_dose,
                    "serving_size_g": lot.product.serving_size_g,
                    "daily_amount_g": lot.product.daily_amount_g,
                    "coa": None
                    if latest is None
                    else {
                        "lot": latest.coa_lot_number,
                        "tested_on": latest.tested_on,
                        "lab_accredited": bool(latest.accreditation_id),
                        "results": latest.results,
                    },
                }
            )
        elif "lot_id" not in row:
            products.append(
                {
                    "name": row.get("product") or "Unrecorded product",
                    "substance": None,
                    "form": "other",
                    "label_lot": row.get("lot"),
                    "coa": None,
                }
            )
    return tuple(products)
