"""The follow-up worklist: the user's teams' cases with a follow-up date, soonest first,
each with the most serious problems its last signed checklist froze.

The last signed checklist's snapshot and signer are read by correlated subqueries in the
one rows query, as the case list reads its caution column (models/cases.py): a page costs
the same queries whatever the number of cases.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field

from django.db import models
from django.db.models.expressions import RawSQL

from accounts.models import signature_text

from ..models import ChecklistResponse, PatientCase
from .problems import Problem, most_serious

# "Due this week": today and the six days after it.
WEEK = datetime.timedelta(days=6)
GROUPS = (("overdue", "Overdue"), ("week", "Due this week"), ("later", "Later"))


@functools.cache
def _last_signed_columns() -> dict[str, RawSQL]:
    """The last signed checklist's frozen flags, signer and the signer's name as frozen at
    signing, written out once per process."""
    case = PatientCase._meta.db_table
    response = ChecklistResponse._meta.db_table

    def last_signed(column: str) -> str:
        return f"""(
            SELECT r.{column} FROM {response} r
            WHERE r.case_id = {case}.id AND r.status = 'signed'
            ORDER BY r.signed_at DESC, r.id DESC LIMIT 1)"""  # noqa: S608 (our model names)

    # noqa below: the SQL is built from our own model names, with no outside value.
    flags = RawSQL(last_signed("flags_snapshot"), (), output_field=models.JSONField())  # noqa: S611
    signer = RawSQL(last_signed("signed_by_id"), (), output_field=models.IntegerField())  # noqa: S611
    signed_as = RawSQL(last_signed("signed_as"), (), output_field=models.JSONField())  # noqa: S611
    return {"last_flags": flags, "last_signer_id": signer, "last_signed_as": signed_as}


def follow_ups(user, *, clinician_id: int | None = None):
    """The user's teams' cases with a follow-up date, soonest first; `clinician_id` keeps
    those whose last signed checklist that clinician signed."""
    cases = (
        PatientCase.objects.visible_to(user)
        .filter(follow_up_due__isnull=False)
        .annotate(**_last_signed_columns())
        .select_related("team")
        .order_by("follow_up_due", "id")
    )
    if clinician_id is not None:
        cases = cases.filter(last_signer_id=clinician_id)
    return cases


# The navigation counts at most this many: past it, "99+". Every page draws the count,
# so its cost must not grow with the number of cases due.
DUE_COUNT_CAP = 99


def due_label(user, today: datetime.date) -> str:
    """Follow-ups due today or overdue, for the navigation ("" when none, "99+" past the
    cap): one query on the (team, follow_up_due) index that stops after the cap."""
    due = PatientCase.objects.visible_to(user).due_by(today)
    found = due[: DUE_COUNT_CAP + 1].count()
    if not found:
        return ""
    return f"{DUE_COUNT_CAP}+" if found > DUE_COUNT_CAP else str(found)


def group_of(due: datetime.date, today: datetime.date) -> str:
    if due < today:
        return "overdue"
    return "week" if due <= today + WEEK else "later"


@dataclass
class Row:
    case: PatientCase
    group: str
    days: int  # days until due (negative: overdue)
    problems: list[Problem]
    signer: str

    @property
    def overdue_by(self) -> int:
        return -self.days


@dataclass
class Group:
    key: str
    label: str
    rows: list[Row] = field(default_factory=list)


def grouped(cases, today: datetime.date, names: dict[int, str]) -> list[Group]:
    """One page of cases in its groups (a group with no row on the page is left out). The
    signer is named as frozen at signing, as every export names them; `names` (the team's
    clinicians) only for checklists signed before names were frozen."""
    groups = {key: Group(key, label) for key, label in GROUPS}
    for case in cases:
        key = group_of(case.follow_up_due, today)
        signer = (
            signature_text(
                case.last_signed_as, names.get(case.last_signer_id, "a former team member")
            )
            if case.last_signer_id
            else ""
        )
        groups[key].rows.append(
            Row(case, key, (case.follow_up_due - today).days, most_serious(case.last_flags), signer)
        )
    return [g for g in groups.values() if g.rows]


def team_clinicians(user) -> list[tuple[int, str]]:
    """The clinicians of the user's teams as (id, name), for the filter and the rows'
    signer (one query)."""
    from django.contrib.auth import get_user_model

    from ..access import teams_for_user
    from ..roles import CLINICIAN

    people = (
        get_user_model()
        .objects.filter(teams__in=teams_for_user(user), groups__name=CLINICIAN)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    return [(p.pk, p.get_full_name() or p.get_username()) for p in people]


def due_by_clinician(until: datetime.date) -> dict[str, list[PatientCase]]:
    """Every team's follow-ups due on or before `until`, by the clinician who signed each
    case's last checklist (the operator's reminder job: not scoped to a user), soonest
    first. Two queries: the cases and the people named."""
    from django.contrib.auth import get_user_model

    cases = list(
        PatientCase.objects.due_by(until)
        .annotate(**_last_signed_columns())
        .select_related("team")
        .order_by("follow_up_due", "id")
    )
    ids = {c.last_signer_id for c in cases if c.last_signer_id}
    people = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids)}
    found: dict[str, list[PatientCase]] = {}
    for case in cases:
        person = people.get(case.last_signer_id)
        name = (
            (person.get_full_name() or person.get_username()) if person else "No signed checklist"
        )
        found.setdefault(name, []).append(case)
    return dict(sorted(found.items()))
