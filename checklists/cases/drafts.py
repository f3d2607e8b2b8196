"""Writes of a draft checklist: starting one (with answers carried forward) and saving a
section of it.

Every write to a draft first claims it (`claim_draft`): the claim succeeds only if the
draft is still the one the page was built from, so two clinicians never overwrite each
other's answers unseen.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import audit
from ..access import ResponseLocked, can_start_checklist, can_write_clinical, require
from ..conditions import is_answered, visible_keys
from ..models import (
    Answer,
    AuditEvent,
    ChecklistResponse,
    Item,
    PatientCase,
    Section,
    TemplateVersion,
)
from . import followup
from .readmodel import ResponseState, load_state

DEFAULT_TEMPLATE_SLUG = "kratom-melatonin-intake"


class NoPublishedVersion(Exception):
    """The default checklist has no published version to start from."""


class StaleResponse(Exception):
    """The response changed since the page was loaded (another save got there first)."""

    def __init__(self, response: ChecklistResponse):
        self.response = response
        super().__init__("This checklist was changed by someone else since you opened it.")


def claim_draft(response: ChecklistResponse, lock_version: int, **changes: Any) -> None:
    """Bump the lock version if the response is still the draft the page was built from,
    writing `changes` with it; raises ResponseLocked (no longer a draft) or StaleResponse.

    For the write functions of this package only (saving, signing, restarting)."""
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


def record_conflict(
    *,
    stale: StaleResponse,
    user,
    lock_version: int,
    during: str,
    section: str = "",
    ip: str | None = None,
) -> None:
    """Write that a save (`during`: "section", "autosave", "sign", "restart") was refused
    because someone saved the draft first. Called by the view once the refused write's
    transaction has rolled back: written inside it, the event would roll back too."""
    audit.record(
        AuditEvent.Action.SAVE_CONFLICT,
        user=user,
        obj=stale.response,
        case_id=stale.response.case_id,
        ip=ip,
        detail={
            "during": during,
            "lock_version": lock_version,
            "current": stale.response.lock_version,
            **({"section": section} if section else {}),
        },
    )


# --- Starting a checklist ---------------------------------------------------------------

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
def start_response(
    *,
    case: PatientCase,
    user,
    ip: str | None = None,
    template_slug: str = DEFAULT_TEMPLATE_SLUG,
) -> ChecklistResponse:
    """Start a draft on the template's published version (the intake unless told, or the
    follow-up review), pre-filled with the stable answers (see CARRY_FORWARD, and
    followup.py for a review's) of the case's last signed checklist whose keys the new
    version asks, whichever template that checklist was."""
    require(can_start_checklist(user, case), "Only clinicians can start a checklist.")
    version = TemplateVersion.objects.published().filter(template__slug=template_slug).first()
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
    carried = _carry_forward(earlier, response, user, now, template_slug) if earlier else []
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


def _carry_forward(
    earlier: ChecklistResponse,
    response: ChecklistResponse,
    user,
    now: datetime.datetime,
    template_slug: str,
) -> list[str]:
    """Copy the carried answers of `earlier` that `response`'s version still asks;
    returns their keys."""
    keys = CARRY_FORWARD | followup.extra_keys(template_slug)
    items = {i.key: i for i in Item.objects.filter(version=response.version, key__in=keys)}
    old = earlier.answers.filter(item__key__in=list(items)).select_related("item")
    values = {a.item.key: a.value for a in old if is_answered(a.value)}
    values = followup.without_stale_legal_check(values, timezone.localdate(now))
    copies = [
        Answer(response=response, item=items[key], value=value, updated_at=now, updated_by=user)
        for key, value in values.items()
    ]
    Answer.objects.bulk_create(copies)
    return sorted(values)


# --- Saving a section -------------------------------------------------------------------


@dataclass
class _RowChanges:
    """What a section save does to the response's answer rows."""

    create: list[Answer] = field(default_factory=list)
    update: list[Answer] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # item keys, in item order


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
    require(can_write_clinical(user), "Only clinicians can change a checklist.")
    now = timezone.now()
    state = state or load_state(response, with_flags=False)
    claim: dict[str, Any] = {"updated_at": now}
    if confirm_carried and response.carried_keys:
        claim["carried_keys"] = _still_unconfirmed(response, state, section)
    claim_draft(response, lock_version, **claim)
    merged = _merged_answers(state, section, values)
    rows = _row_changes(response, state, merged, user, now)
    _write_rows(rows)
    deleted = set(rows.delete)
    state.saved_rows = [r for r in state.rows_by_item.values() if r.pk not in deleted]
    state.saved_rows += rows.create
    audit.record_section_save(
        user=user, response=response, section=section.key, changed=rows.changed, ip=ip
    )
    return rows.changed


def _still_unconfirmed(
    response: ChecklistResponse, state: ResponseState, section: Section
) -> list[str]:
    """The carried-forward keys left to confirm once this section is saved."""
    section_keys = {i.key for i in state.items if i.section_id == section.id}
    return [k for k in response.carried_keys if k not in section_keys]


def _merged_answers(
    state: ResponseState, section: Section, values: dict[str, Any]
) -> dict[str, Any]:
    """Every stored answer by item key, with this section's replaced by `values` (an
    unanswered value removes the answer)."""
    existing = state.rows_by_item
    merged = {i.key: existing[i.id].value for i in state.items if i.id in existing}
    for item in state.items:
        if item.section_id != section.id:
            continue
        value = values.get(item.key)
        if is_answered(value):
            merged[item.key] = value
        else:
            merged.pop(item.key, None)
    return merged


def _row_changes(
    response: ChecklistResponse,
    state: ResponseState,
    merged: dict[str, Any],
    user,
    now: datetime.datetime,
) -> _RowChanges:
    """Rows to create, update and delete so that exactly the visible merged answers are
    stored."""
    visible = visible_keys(state.items, merged)
    rows = _RowChanges()
    for item in state.items:
        row = state.rows_by_item.get(item.id)
        keep = item.key in merged and item.key in visible
        if keep and row is None:
            rows.create.append(
                Answer(
                    response=response,
                    item=item,
                    value=merged[item.key],
                    updated_at=now,
                    updated_by=user,
                )
            )
        elif keep and row.value != merged[item.key]:
            row.value, row.updated_at, row.updated_by = merged[item.key], now, user
            rows.update.append(row)
        elif not keep and row is not None:
            rows.delete.append(row.pk)
        else:
            continue
        rows.changed.append(item.key)
    return rows


def _write_rows(rows: _RowChanges) -> None:
    """At most three queries, whatever the number of items."""
    if rows.create:
        Answer.objects.bulk_create(rows.create)
    if rows.update:
        Answer.objects.bulk_update(rows.update, ["value", "updated_at", "updated_by"])
    if rows.delete:
        Answer.objects.filter(pk__in=rows.delete).delete()
