"""Writes of a patient case's own details: creating it and changing its optional fields.

Each runs in one transaction with its audit event; views call these, never `save()`.
"""

from __future__ import annotations

from django.db import transaction

from .. import audit
from ..access import can_edit_case, can_write_clinical, require
from ..models import AuditEvent, PatientCase, Team


@transaction.atomic
def create_case(
    *,
    user,
    team: Team,
    reference: str,
    initials: str = "",
    birth_year: int | None = None,
    jurisdiction: str = "",
    ip: str | None = None,
) -> PatientCase:
    require(can_write_clinical(user), "Only clinicians can create a case.")
    case = PatientCase(
        team=team,
        reference=reference,
        initials=initials,
        birth_year=birth_year,
        jurisdiction=jurisdiction,
        created_by=user,
    )
    case.full_clean()
    case.save()
    audit.record(AuditEvent.Action.CASE_CREATED, user=user, obj=case, case_id=case.pk, ip=ip)
    return case


@transaction.atomic
def update_case(
    *,
    case: PatientCase,
    user,
    initials: str,
    birth_year: int | None,
    jurisdiction: str,
    ip: str | None = None,
) -> list[str]:
    """Change a case's optional details; returns the names of the fields that changed."""
    require(can_edit_case(user, case), "Only clinicians can change a case.")
    values = {"initials": initials, "birth_year": birth_year, "jurisdiction": jurisdiction}
    changed = [name for name, value in values.items() if getattr(case, name) != value]
    if changed:
        for name in changed:
            setattr(case, name, values[name])
        case.full_clean(validate_unique=False)
        case.save(update_fields=[*changed, "updated_at"])
        audit.record(
            AuditEvent.Action.CASE_CHANGED,
            user=user,
            obj=case,
            case_id=case.pk,
            ip=ip,
            detail={"fields": changed},
        )
    return changed
