"""Restarting a draft answered on an older version on the current published one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..access import can_write_clinical, require
from ..conditions import effective_answers
from ..models import Answer, AuditEvent, ChecklistResponse, Item, ItemKind, TemplateVersion
from .drafts import claim_draft

CODED_KINDS = {ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE, ItemKind.MULTI_CHOICE}


class NothingToRestart(Exception):
    """The draft is already on the current version, or there is no published version."""


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


def _current_version(response: ChecklistResponse) -> TemplateVersion:
    """The published version of the response's template, if it is not the response's."""
    current = (
        TemplateVersion.objects.published().filter(template_id=response.version.template_id).first()
    )
    if current is None:
        raise NothingToRestart("This checklist has no published version to restart on.")
    if current.pk == response.version_id:
        raise NothingToRestart("This checklist is already on the current version.")
    return current


def _carried_answers(
    answers: list[Answer], old_items: dict[int, Item], new_items: list[Item]
) -> tuple[dict[str, Any], dict[str, Answer], list[str]]:
    """(values the new version keeps by key, their old rows by key, keys dropped): an
    answer is dropped when its item or option codes are gone, or the new version's
    show-when conditions hide it."""
    by_key = {item.key: item for item in new_items}
    values, rows, dropped = {}, {}, []
    for answer in answers:
        old = old_items[answer.item_id]
        if _still_valid(old, by_key.get(old.key), answer.value):
            values[old.key], rows[old.key] = answer.value, answer
        else:
            dropped.append(old.key)
    kept = effective_answers(new_items, values)
    dropped += [key for key in values if key not in kept]
    return kept, rows, dropped


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
    require(can_write_clinical(user), "Only clinicians can restart a checklist.")
    current = _current_version(response)
    old_items = {i.pk: i for i in Item.objects.filter(version_id=response.version_id)}
    new_items = list(Item.objects.filter(version=current).order_by("section__position", "position"))
    answers = list(Answer.objects.filter(response=response))
    now = timezone.now()
    amends, amend_reason = response.amends_id, response.amend_reason
    # Claims the old draft (refused if it was signed or saved meanwhile) and frees the
    # amendment link so the new draft can take it over.
    claim_draft(
        response,
        lock_version,
        status=ChecklistResponse.Status.RESTARTED,
        updated_at=now,
        amends=None,
    )
    kept, rows, dropped = _carried_answers(answers, old_items, new_items)
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
    by_key = {item.key: item for item in new_items}
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
    _record_restart(response, restarted, current, user, ip, carried, dropped)
    return RestartResult(restarted, carried, sorted(dropped))


def _record_restart(
    old: ChecklistResponse,
    new: ChecklistResponse,
    current: TemplateVersion,
    user,
    ip: str | None,
    carried: list[str],
    dropped: list[str],
) -> None:
    audit.record(
        AuditEvent.Action.CHECKLIST_RESTARTED,
        user=user,
        obj=new,
        case_id=old.case_id,
        ip=ip,
        detail={
            "from_response": old.pk,
            "from_version": old.version.number,
            "to_version": current.number,
            "carried": carried,
            "dropped": sorted(dropped),
        },
    )
