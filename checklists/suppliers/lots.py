"""Writes of a team's product lots and their certificates of analysis.

Each runs in one transaction with its audit event. The checks on an uploaded certificate
(certificate_pdf.check_coa_pdf) run in the form before these are called.
"""

from __future__ import annotations

import datetime
import hashlib

from django.db import transaction

from .. import audit
from ..access import can_add_lot, require
from ..models import AuditEvent, CertificateOfAnalysis, Lot, Product, Supplier, Team


@transaction.atomic
def create_lot(
    *,
    user,
    team: Team,
    supplier: str,
    product: str,
    substance: str,
    form: str,
    labelled_amount_mg: float | None,
    lot_number: str,
    units_per_dose: int | None = None,
    serving_size_g: float | None = None,
    daily_amount_g: float | None = None,
    ip: str | None = None,
) -> Lot:
    """Record a lot, reusing the team's supplier and product of the same name (whose label
    amounts, once recorded, are kept)."""
    require(can_add_lot(user), "Only clinicians can record lots.")
    supplier_row, _ = Supplier.objects.get_or_create(team=team, name=supplier)
    product_row, _ = Product.objects.get_or_create(
        supplier=supplier_row,
        name=product,
        form=form,
        defaults={
            "substance": substance,
            "labelled_amount_mg": labelled_amount_mg,
            "units_per_dose": units_per_dose,
            "serving_size_g": serving_size_g,
            "daily_amount_g": daily_amount_g,
        },
    )
    lot, created = Lot.objects.get_or_create(product=product_row, lot_number=lot_number)
    if created:
        audit.record(AuditEvent.Action.LOT_CREATED, user=user, obj=lot, ip=ip)
    return lot


@transaction.atomic
def add_certificate(
    *,
    user,
    lot: Lot,
    lab_name: str,
    accreditation_id: str,
    tested_on: datetime.date,
    coa_lot_number: str,
    results: dict,
    upload=None,
    ip: str | None = None,
) -> CertificateOfAnalysis:
    """Store a COA and its PDF (under a server-made name, through the storage API), with
    the PDF's SHA-256 so the stored file can be shown to be the one uploaded."""
    require(can_add_lot(user, lot), "Only clinicians can record certificates.")
    coa = CertificateOfAnalysis(
        lot=lot,
        lab_name=lab_name,
        accreditation_id=accreditation_id,
        tested_on=tested_on,
        coa_lot_number=coa_lot_number,
        results=results,
        uploaded_by=user,
    )
    if upload is not None:
        coa.original_filename = upload.name[:200]
        coa.sha256 = _sha256_of(upload)
        coa.pdf.save("certificate.pdf", upload, save=False)
    coa.save()
    audit.record(
        AuditEvent.Action.COA_UPLOADED,
        user=user,
        obj=coa,
        ip=ip,
        detail={"lot": lot.pk, "sha256": coa.sha256},
    )
    return coa


@transaction.atomic
def record_refused_certificate(*, user, lot: Lot, reason: str, upload, ip: str | None = None):
    """Audit a certificate refused by its PDF checks: nothing else is written (no row, no
    file; the upload's temporary copy goes with the request). The hash and size let the
    refused file be recognised if it is sent again."""
    require(can_add_lot(user, lot), "Only clinicians can record certificates.")
    detail = {"lot": lot.pk, "reason": reason}
    if upload is not None:
        detail |= {"size": upload.size, "sha256": _sha256_of(upload)}
    return audit.record(AuditEvent.Action.COA_REFUSED, user=user, obj=lot, ip=ip, detail=detail)


def _sha256_of(upload) -> str:
    """The upload's SHA-256 hex digest, read in chunks; leaves it rewound for storing."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
