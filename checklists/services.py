"""Writes that touch several rows. Each runs in one transaction with its audit event.

Keyword-only functions named <verb>_<noun>; views call these and nothing else to change
cases, responses or answers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import audit
from .access import ResponseLocked, can_edit_content, can_publish_content
from .authoring.files import version_hash
from .authoring.validation import validate_version
from .conditions import effective_answers, is_answered, visible_keys
from .models import (
    Acknowledgement,
    AmendmentRequest,
    Answer,
    AuditEvent,
    CertificateOfAnalysis,
    ChecklistResponse,
    Citation,
    Item,
    ItemKind,
    Lot,
    MedicationEntry,
    PatientCase,
    Product,
    Section,
    Supplier,
    Team,
    TemplateVersion,
)
from .walkthrough import ResponseState, load_state

DEFAULT_TEMPLATE_SLUG = "kratom-melatonin-intake"
FOLLOW_UP_ITEM_KEY = "follow_up_date"


class NoPublishedVersion(Exception):
    """The default checklist has no published version to start from."""


class StaleResponse(Exception):
    """The response changed since the page was loaded (another save got there first)."""

    def __init__(self, response: ChecklistResponse):
        self.response = response
        super().__init__("This checklist was changed by someone else since you opened it.")


class SignRefused(Exception):
    def __init__(self, missing: list, unacknowledged: list | None = None):
        self.missing = missing
        self.unacknowledged = unacknowledged or []
        reasons = []
        if missing:
            reasons.append(f"{len(missing)} required item(s) still need an answer")
        if self.unacknowledged:
            reasons.append(f"{len(self.unacknowledged)} serious caution(s) need an acknowledgement")
        super().__init__("; ".join(reasons) + ".")


class WorkflowRefused(Exception):
    """A content-workflow step was refused; `reasons` lists every reason, in words."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__(" ".join(reasons))


class NothingToRestart(Exception):
    """The draft is already on the current version, or there is no published version."""


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


# Answers that rarely change between visits: a new checklist on a case starts with them
# from the last signed one, each marked "to be confirmed" until its section is saved.
CARRY_FORWARD = frozenset(
    {
        "current_medications",
        "product_in_use",
        "seizure_history",
        "psychiatric_condition",
        "sud_history",
        "liver_disease_or_signs",
        "kidney_impairment",
        "long_qt_or_arrhythmia",
        "autoimmune_or_immunosuppressed",
        "diabetes",
    }
)


@transaction.atomic
def start_response(*, case: PatientCase, user, ip: str | None = None) -> ChecklistResponse:
    """Start a draft on the published version, pre-filled with the stable answers (see
    CARRY_FORWARD) of the case's last signed checklist whose keys the new version keeps."""
    version = (
        TemplateVersion.objects.published().filter(template__slug=DEFAULT_TEMPLATE_SLUG).first()
    )
    if version is None:
        raise NoPublishedVersion("The checklist has no published version yet.")
    now = timezone.now()
    earlier = (
        case.responses.filter(status=ChecklistResponse.Status.SIGNED)
        .order_by("-signed_at", "-id")
        .first()
    )
    response = ChecklistResponse.objects.create(
        case=case, version=version, started_by=user, started_at=now, updated_at=now
    )
    carried = _carry_forward(earlier, response, user, now) if earlier else []
    if carried:
        response.carried_from, response.carried_keys = earlier, carried
        response.save(update_fields=["carried_from", "carried_keys"])
    audit.record(
        AuditEvent.Action.CHECKLIST_STARTED,
        user=user,
        obj=response,
        case_id=case.pk,
        ip=ip,
        detail={
            "version": version.number,
            **({"carried_from": earlier.pk, "carried": carried} if carried else {}),
        },
    )
    return response


def _carry_forward(earlier, response, user, now) -> list[str]:
    items = {i.key: i for i in Item.objects.filter(version=response.version, key__in=CARRY_FORWARD)}
    old = earlier.answers.filter(item__key__in=list(items)).select_related("item")
    copies = [
        Answer(
            response=response,
            item=items[a.item.key],
            value=a.value,
            updated_at=now,
            updated_by=user,
        )
        for a in old
        if is_answered(a.value)
    ]
    Answer.objects.bulk_create(copies)
    return sorted(a.item.key for a in copies)


def _claim_draft(response: ChecklistResponse, lock_version: int, **changes) -> None:
    """Bump the lock version if the response is still the draft the page was built from."""
    claimed = ChecklistResponse.objects.filter(
        pk=response.pk, status=ChecklistResponse.Status.DRAFT, lock_version=lock_version
    ).update(lock_version=F("lock_version") + 1, **changes)
    if not claimed:
        fresh = ChecklistResponse.objects.get(pk=response.pk)
        if not fresh.is_draft:
            raise ResponseLocked(fresh)
        raise StaleResponse(fresh)
    response.lock_version = lock_version + 1
    for name, value in changes.items():
        setattr(response, name, value)


@transaction.atomic
def save_section(
    *,
    response: ChecklistResponse,
    section: Section,
    values: dict[str, Any],
    lock_version: int,
    user,
    ip: str | None = None,
    state: ResponseState | None = None,
    confirm_carried: bool = True,
) -> list[str]:
    """Save one section's answers as a draft; returns the keys whose answers changed
    (and leaves the rows as written in `state.saved_rows`).

    Answers carried forward from an earlier checklist count as confirmed when the
    clinician saves their section (`confirm_carried`); an autosave, which a change to any
    other question of the section triggers, confirms nothing.

    Answers to items that the new answers hide (in this section or later ones) are
    removed: a hidden item is never kept as answered. The number of queries does not
    depend on the number of items. A `state` the caller loaded may be passed in: it is
    safe to reuse because the claim below only succeeds if nothing was written since
    the page was built (every write bumps the lock version).
    """
    now = timezone.now()
    state = state or load_state(response, with_flags=False)
    changes: dict[str, Any] = {"updated_at": now}
    if confirm_carried and response.carried_keys:
        section_keys = {i.key for i in state.items if i.section_id == section.id}
        changes["carried_keys"] = [k for k in response.carried_keys if k not in section_keys]
    _claim_draft(response, lock_version, **changes)
    items = state.items
    existing = state.rows_by_item
    merged = {i.key: existing[i.id].value for i in items if i.id in existing}
    for item in items:
        if item.section_id != section.id:
            continue
        value = values.get(item.key)
        if is_answered(value):
            merged[item.key] = value
        else:
            merged.pop(item.key, None)
    visible = visible_keys(items, merged)

    to_create, to_update, to_delete, changed = [], [], [], []
    for item in items:
        row = existing.get(item.id)
        keep = item.key in merged and item.key in visible
        if keep and row is None:
            to_create.append(
                Answer(
                    response=response,
                    item=item,
                    value=merged[item.key],
                    updated_at=now,
                    updated_by=user,
                )
            )
            changed.append(item.key)
        elif keep and row.value != merged[item.key]:
            row.value, row.updated_at, row.updated_by = merged[item.key], now, user
            to_update.append(row)
            changed.append(item.key)
        elif not keep and row is not None:
            to_delete.append(row.pk)
            changed.append(item.key)
    if to_create:
        Answer.objects.bulk_create(to_create)
    if to_update:
        Answer.objects.bulk_update(to_update, ["value", "updated_at", "updated_by"])
    if to_delete:
        Answer.objects.filter(pk__in=to_delete).delete()
    deleted = set(to_delete)
    state.saved_rows = [r for r in existing.values() if r.pk not in deleted] + to_create
    audit.record(
        AuditEvent.Action.SECTION_SAVED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail={"section": section.key, "changed": changed},
    )
    return changed


def _as_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@transaction.atomic
def sign_response(
    *,
    response: ChecklistResponse,
    user,
    attestation: str,
    lock_version: int,
    acknowledgements: dict[str, tuple[str, str]] | None = None,
    ip: str | None = None,
) -> ChecklistResponse:
    """Sign a complete draft: it becomes read-only for good, with its flags, their
    acknowledgements and the matched medications frozen on it.

    The caller has re-checked the user's password. Refused while any required, visible
    item is unanswered or any contraindicated or major flag lacks an acknowledgement.
    """
    state = load_state(response)
    if state.missing:
        raise SignRefused(state.missing)
    acknowledgements = acknowledgements or {}
    unacknowledged = [
        f for f in state.flags if f.needs_acknowledgement and f.code not in acknowledgements
    ]
    if unacknowledged:
        raise SignRefused([], unacknowledged)
    now = timezone.now()
    _claim_draft(
        response,
        lock_version,
        status=ChecklistResponse.Status.SIGNED,
        signed_by=user,
        signed_at=now,
        updated_at=now,
        attestation=attestation,
        flags_snapshot=[flag.as_dict() for flag in state.flags],
    )
    needing = {f.code: f for f in state.flags if f.needs_acknowledgement}
    Acknowledgement.objects.bulk_create(
        Acknowledgement(
            response=response,
            flag_code=code,
            severity=needing[code].severity,
            reason=reason,
            comment=comment,
            acknowledged_by=user,
            acknowledged_at=now,
        )
        for code, (reason, comment) in acknowledgements.items()
        if code in needing
    )
    rows = [
        row
        for item in state.items
        if (item.screening or {}).get("role") == "medications"
        for row in state.answers.get(item.key) or []
        if row.get("name")
    ]
    MedicationEntry.objects.bulk_create(
        MedicationEntry(
            response=response,
            position=n,
            name_as_typed=row["name"],
            dose=row.get("dose", ""),
            frequency=row.get("frequency", ""),
            matched_substance_id=match.substance.pk if match.substance else None,
            matched_name=match.substance.name if match.substance else "",
        )
        for n, (row, match) in enumerate(
            zip(rows, state.screening_result.matches, strict=True), start=1
        )
    )
    if response.amends_id is not None:
        # The corrected record takes over; the earlier one stays viewable, linked both ways.
        ChecklistResponse.objects.filter(
            pk=response.amends_id, status=ChecklistResponse.Status.SIGNED
        ).update(status=ChecklistResponse.Status.SUPERSEDED)
    follow_up = _as_date(state.answers.get(FOLLOW_UP_ITEM_KEY))
    if follow_up is not None:
        PatientCase.objects.filter(pk=response.case_id).update(
            follow_up_due=follow_up, updated_at=now
        )
    audit.record(
        AuditEvent.Action.CHECKLIST_SIGNED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail={"version": response.version.number, "flags": len(state.flags)},
    )
    return response


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
    ip: str | None = None,
) -> Lot:
    """Record a lot, reusing the team's supplier and product of the same name."""
    supplier_row, _ = Supplier.objects.get_or_create(team=team, name=supplier)
    product_row, _ = Product.objects.get_or_create(
        supplier=supplier_row,
        name=product,
        form=form,
        defaults={"substance": substance, "labelled_amount_mg": labelled_amount_mg},
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
    sha256: str = "",
    ip: str | None = None,
) -> CertificateOfAnalysis:
    """Store a COA and its PDF (under a server-made name, through the storage API)."""
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
        coa.sha256 = sha256
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


class AmendRefused(Exception):
    """The checklist cannot be amended (not signed, or already being amended)."""


@transaction.atomic
def amend_response(
    *, response: ChecklistResponse, user, reason: str, ip: str | None = None
) -> ChecklistResponse:
    """Start a correction of a signed checklist: a new draft revision on the same version,
    with the previous answers, that supersedes the signed one only when it is signed."""
    locked = ChecklistResponse.objects.select_for_update().get(pk=response.pk)
    if locked.status != ChecklistResponse.Status.SIGNED:
        raise AmendRefused("Only the latest signed revision can be amended.")
    if ChecklistResponse.objects.filter(amends=locked).exists():
        raise AmendRefused("An amendment of this checklist is already under way.")
    now = timezone.now()
    try:
        with transaction.atomic():
            draft = ChecklistResponse.objects.create(
                case_id=locked.case_id,
                version_id=locked.version_id,
                revision=locked.revision + 1,
                amends=locked,
                amend_reason=reason,
                started_by=user,
                started_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # Another clinician's amendment got there first (one amendment per revision).
        raise AmendRefused("An amendment of this checklist is already under way.") from None
    Answer.objects.bulk_create(
        Answer(response=draft, item_id=a.item_id, value=a.value, updated_at=now, updated_by=user)
        for a in Answer.objects.filter(response=locked)
    )
    audit.record(
        AuditEvent.Action.CHECKLIST_AMENDED,
        user=user,
        obj=draft,
        case_id=locked.case_id,
        ip=ip,
        detail={"amends": locked.pk, "revision": draft.revision, "reason": reason},
    )
    return draft


# --- Content workflow: draft → in review → published → retired -------------------------


def _lock_version(version: TemplateVersion) -> TemplateVersion:
    """The version row, re-read and locked for the rest of the transaction."""
    return TemplateVersion.objects.select_for_update().select_related("template").get(pk=version.pk)


def _refuse_unless(condition: bool, reason: str) -> None:
    if not condition:
        raise WorkflowRefused([reason])


def _version_event(action, version: TemplateVersion, user, ip, **detail) -> None:
    audit.record(
        action,
        user=user,
        obj=version,
        ip=ip,
        detail={"template": version.template.slug, "version": version.number, **detail},
    )


@transaction.atomic
def new_draft_from(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """A new draft with a copy of the version's sections, items and citations.

    The copy keeps every item key and option code, so answers carry over between them.
    """
    _refuse_unless(can_edit_content(user), "Only content editors can start a draft.")
    version = _lock_version(version)
    template = version.template
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = TemplateVersion.objects.create(
        template=template, number=number, author=user, based_on=version
    )
    sections = list(version.sections.order_by("position"))
    copies = bulk_create_with_history(
        [
            Section(version=draft, key=s.key, title=s.title, intro=s.intro, position=s.position)
            for s in sections
        ],
        Section,
        default_user=user,
    )
    section_for = {old.pk: new for old, new in zip(sections, copies, strict=True)}
    items = list(Item.objects.filter(version=version).order_by("pk"))
    copied_fields = [
        f.attname
        for f in Item._meta.concrete_fields
        if f.attname not in {"id", "version_id", "section_id"}
    ]
    item_copies = bulk_create_with_history(
        [
            Item(
                version=draft,
                section=section_for[item.section_id],
                **{name: getattr(item, name) for name in copied_fields},
            )
            for item in items
        ],
        Item,
        default_user=user,
    )
    item_for = {old.pk: new for old, new in zip(items, item_copies, strict=True)}
    citations = Citation.objects.filter(item__version=version).order_by("pk")
    bulk_create_with_history(
        [
            Citation(item=item_for[c.item_id], source_id=c.source_id, locator=c.locator)
            for c in citations
        ],
        Citation,
        default_user=user,
    )
    _version_event(
        AuditEvent.Action.CONTENT_DRAFT_CREATED, draft, user, ip, based_on=version.number
    )
    return draft


@transaction.atomic
def return_for_amendment(
    *, response: ChecklistResponse, user, comment: str, ip: str | None = None
) -> AmendmentRequest:
    """A supervisor sends a signed checklist back to the clinicians with a comment."""
    if response.status != ChecklistResponse.Status.SIGNED:
        raise AmendRefused("Only a signed checklist can be returned for amendment.")
    request = AmendmentRequest.objects.create(response=response, comment=comment, requested_by=user)
    audit.record(
        AuditEvent.Action.CHECKLIST_RETURNED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail={"comment": comment},
    )
    return request


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


@transaction.atomic
def submit_for_review(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """Draft → in review: its content is locked and its hash stored for the approver.

    Refused with every reason `validate_version` finds, so reviewers only see drafts that
    could be published.
    """
    _refuse_unless(can_edit_content(user), "Only content editors can submit a version.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.DRAFT,
        f"Version {version.number} is {version.get_status_display().lower()}; "
        "only a draft can be submitted for review.",
    )
    reasons = validate_version(version)
    if reasons:
        raise WorkflowRefused(reasons)
    version.status = TemplateVersion.Status.IN_REVIEW
    version.submitted_by, version.submitted_at = user, timezone.now()
    version.content_hash = version_hash(version)
    # A draft loaded from a file has no author: whoever submits it answers for it.
    version.author = version.author or user
    version.save(update_fields=["status", "submitted_by", "submitted_at", "content_hash", "author"])
    _version_event(
        AuditEvent.Action.CONTENT_SUBMITTED, version, user, ip, content_hash=version.content_hash
    )
    return version


@transaction.atomic
def return_to_draft(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """In review → draft, so that its content can be changed again."""
    _refuse_unless(can_edit_content(user), "Only content editors can send a version back.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.IN_REVIEW,
        f"Version {version.number} is not in review.",
    )
    version.status = TemplateVersion.Status.DRAFT
    version.submitted_by = version.submitted_at = None
    version.save(update_fields=["status", "submitted_by", "submitted_at"])
    _version_event(AuditEvent.Action.CONTENT_RETURNED, version, user, ip)
    return version


@transaction.atomic
def approve_and_publish(
    *, version: TemplateVersion, user, ip: str | None = None, on: datetime.date | None = None
) -> TemplateVersion:
    """In review → published, approved by a second editor; the previous published version
    of the template is retired in the same transaction.

    Refused when the user is not an editor, wrote or changed the version (its author, its
    submitter or anyone in its rows' history), when its content changed since it was
    submitted, or with every reason `validate_version` finds.
    """
    _refuse_unless(
        can_publish_content(user), "Only content editors with the publish permission can approve."
    )
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.IN_REVIEW,
        f"Version {version.number} is {version.get_status_display().lower()}; "
        "only a version in review can be approved.",
    )
    _refuse_unless(
        user.pk not in version.contributor_ids(),
        "You wrote or changed this version, so you cannot approve it: a second editor "
        "who did not work on it must approve.",
    )
    reasons = validate_version(version, on=on)
    digest = version_hash(version)
    if digest != version.content_hash:
        reasons.append("Its content changed after it was submitted; submit it again.")
    if reasons:
        raise WorkflowRefused(reasons)
    now = timezone.now()
    previous = (
        TemplateVersion.objects.select_for_update()
        .filter(template_id=version.template_id, status=TemplateVersion.Status.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.status, previous.retired_at = TemplateVersion.Status.RETIRED, now
        previous.save(update_fields=["status", "retired_at"])
    version.status = TemplateVersion.Status.PUBLISHED
    version.approver, version.published_at = user, now
    version.save(update_fields=["status", "approver", "published_at"])
    _version_event(
        AuditEvent.Action.CONTENT_PUBLISHED,
        version,
        user,
        ip,
        content_hash=digest,
        author=version.author.get_username() if version.author else "",
        retired_version=previous.number if previous else None,
    )
    return version


@transaction.atomic
def retire_version(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """Published → retired. Checklists already answered on it keep it; new ones cannot
    start until another version is published."""
    _refuse_unless(can_edit_content(user), "Only content editors can retire a version.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.PUBLISHED,
        f"Version {version.number} is not published.",
    )
    version.status, version.retired_at = TemplateVersion.Status.RETIRED, timezone.now()
    version.save(update_fields=["status", "retired_at"])
    _version_event(AuditEvent.Action.CONTENT_RETIRED, version, user, ip)
    return version


# --- Restarting a draft on the current version -----------------------------------------

CODED_KINDS = {ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE, ItemKind.MULTI_CHOICE}


@dataclass
class RestartResult:
    response: ChecklistResponse
    carried: list[str] = field(default_factory=list)
    # Keys answered on the old draft whose answer could not be carried over.
    dropped: list[str] = field(default_factory=list)


def _still_valid(old: Item, new: Item | None, value: Any) -> bool:
    """An answer carries over when its item key still exists with the same kind and every
    option code in it still exists (a removed code is never silently mapped)."""
    if new is None or new.kind != old.kind:
        return False
    if new.kind not in CODED_KINDS:
        return True
    codes = value if isinstance(value, list) else [value]
    valid = {option["code"] for option in new.choices}
    return all(code in valid for code in codes)


@transaction.atomic
def restart_response_on_current(
    *, response: ChecklistResponse, user, lock_version: int, ip: str | None = None
) -> RestartResult:
    """Replace a draft answered on an older version by a new draft on the current one.

    Answers whose item key and option codes still exist are carried over (with who gave
    them and when); the others, and those the new version's show-when conditions hide,
    are listed in `dropped`. The old draft is not deleted: it becomes "restarted",
    read-only, and the new draft points back at it (`restarted_from`).
    """
    current = (
        TemplateVersion.objects.published().filter(template_id=response.version.template_id).first()
    )
    if current is None:
        raise NothingToRestart("This checklist has no published version to restart on.")
    if current.pk == response.version_id:
        raise NothingToRestart("This checklist is already on the current version.")
    old_items = {i.pk: i for i in Item.objects.filter(version_id=response.version_id)}
    new_items = list(Item.objects.filter(version=current).order_by("section__position", "position"))
    by_key = {item.key: item for item in new_items}
    answers = list(Answer.objects.filter(response=response))
    now = timezone.now()
    amends, amend_reason = response.amends_id, response.amend_reason
    # Claims the old draft (refused if it was signed or saved meanwhile) and frees the
    # amendment link so the new draft can take it over.
    _claim_draft(
        response,
        lock_version,
        status=ChecklistResponse.Status.RESTARTED,
        updated_at=now,
        amends=None,
    )
    values, rows, dropped = {}, {}, []
    for answer in answers:
        old = old_items[answer.item_id]
        new = by_key.get(old.key)
        if _still_valid(old, new, answer.value):
            values[old.key], rows[old.key] = answer.value, answer
        else:
            dropped.append(old.key)
    kept = effective_answers(new_items, values)
    dropped += [key for key in values if key not in kept]
    restarted = ChecklistResponse.objects.create(
        case_id=response.case_id,
        version=current,
        revision=response.revision,
        amends_id=amends,
        amend_reason=amend_reason,
        restarted_from=response,
        # Answers carried forward and not yet confirmed stay marked on the new draft.
        carried_from_id=response.carried_from_id,
        carried_keys=[key for key in response.carried_keys if key in kept],
        started_by=user,
        started_at=now,
        updated_at=now,
    )
    Answer.objects.bulk_create(
        Answer(
            response=restarted,
            item=by_key[key],
            value=value,
            updated_at=rows[key].updated_at,
            updated_by_id=rows[key].updated_by_id,
        )
        for key, value in kept.items()
    )
    carried = [item.key for item in new_items if item.key in kept]
    audit.record(
        AuditEvent.Action.CHECKLIST_RESTARTED,
        user=user,
        obj=restarted,
        case_id=response.case_id,
        ip=ip,
        detail={
            "from_response": response.pk,
            "from_version": response.version.number,
            "to_version": current.number,
            "carried": carried,
            "dropped": sorted(dropped),
        },
    )
    return RestartResult(restarted, carried, sorted(dropped))
