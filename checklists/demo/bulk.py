"""Bulk copies of the prototype cases: any number of deterministic demo cases, fast."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from ..models import (
    Acknowledgement,
    Answer,
    AuditEvent,
    ChecklistResponse,
    MedicationEntry,
    PatientCase,
    Team,
)

# The module, not its names: tests lower PROTOTYPES there to reach the bulk copy sooner.
from . import cases as service_cases
from .accounts import DEMO_TEAM, OTHER_TEAM, extra_teams

BATCH = 1000


@dataclass
class Prototype:
    case: PatientCase
    responses: list  # ChecklistResponse, oldest revision first
    answers: dict  # response id -> [(item id, value)]
    medications: dict  # response id -> [(position, name, dose, ...)]
    acknowledgements: dict  # response id -> [(flag code, severity, reason, comment)]
    events: list  # AuditEvent


def _load_prototypes(case_ids: list[int]) -> list[Prototype]:
    by_case = {pk: Prototype(None, [], {}, {}, {}, []) for pk in case_ids}
    for case in PatientCase.objects.filter(pk__in=case_ids):
        by_case[case.pk].case = case
    responses = ChecklistResponse.objects.filter(case_id__in=case_ids).order_by("revision", "pk")
    owner = {}
    for response in responses:
        by_case[response.case_id].responses.append(response)
        owner[response.pk] = by_case[response.case_id]
    for proto in by_case.values():
        for r in proto.responses:
            proto.answers[r.pk], proto.medications[r.pk], proto.acknowledgements[r.pk] = [], [], []
    # Rows kept as tuples of values already adapted for the database (see _insert).
    adapt = connection.ops.adapt_json_value
    for a in Answer.objects.filter(response_id__in=owner).order_by("pk"):
        owner[a.response_id].answers[a.response_id].append(
            (a.item_id, None if a.value is None else adapt(a.value, None))
        )
    for m in MedicationEntry.objects.filter(response_id__in=owner).order_by("pk"):
        owner[m.response_id].medications[m.response_id].append(
            (m.position, m.name_as_typed, m.dose, m.frequency)
            + (m.matched_substance_id, m.matched_name)
        )
    for k in Acknowledgement.objects.filter(response_id__in=owner).order_by("pk"):
        owner[k.response_id].acknowledgements[k.response_id].append(
            (k.flag_code, k.severity, k.reason, k.comment)
        )
    for event in AuditEvent.objects.filter(case_id__in=case_ids).order_by("pk"):
        by_case[event.case_id].events.append(event)
    return [by_case[pk] for pk in case_ids]


def _copy_batch(plans: list[tuple], now) -> None:
    """Bulk-copy prototypes: plans are (prototype, team, user, reference, birth_year)."""
    cases = PatientCase.objects.bulk_create(
        PatientCase(
            team=team,
            reference=reference,
            birth_year=birth_year,
            jurisdiction=proto.case.jurisdiction,
            follow_up_due=proto.case.follow_up_due,
            created_by=user,
            created_at=now,
        )
        for proto, team, user, reference, birth_year in plans
    )
    copies = _copy_responses(plans, cases, now)
    _copy_children(plans, cases, copies, now)


def _copy_responses(plans: list[tuple], cases: list, now) -> dict:
    """Each prototype's revisions for its copied case: (case index, prototype id) -> copy."""
    copies = {}
    for revision_pass in (False, True):  # amendments point at the copies made first
        batch = []
        for n, (proto, _team, user, *_rest) in enumerate(plans):
            for r in proto.responses:
                if (r.amends_id is not None) != revision_pass:
                    continue
                signed = r.status != ChecklistResponse.Status.DRAFT
                copy = ChecklistResponse(
                    case=cases[n],
                    version_id=r.version_id,
                    status=r.status,
                    revision=r.revision,
                    amends=copies[(n, r.amends_id)] if r.amends_id else None,
                    amend_reason=r.amend_reason,
                    lock_version=r.lock_version,
                    started_by=user,
                    started_at=now,
                    updated_at=now,
                    signed_by=user if signed else None,
                    signed_at=now if signed else None,
                    attestation=r.attestation,
                    flags_snapshot=r.flags_snapshot,
                )
                copies[(n, r.pk)] = copy
                batch.append(copy)
        ChecklistResponse.objects.bulk_create(batch)
    return copies


def _copy_children(plans: list[tuple], cases: list, copies: dict, now) -> None:
    """Answers, medications, acknowledgements and audit events of the copied revisions."""
    answers, medications, acknowledgements, events = [], [], [], []
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    for n, (proto, _team, user, *_rest) in enumerate(plans):
        for r in proto.responses:
            new = copies[(n, r.pk)].pk
            answers += [
                (new, item_id, value, at, user.pk) for item_id, value in proto.answers[r.pk]
            ]
            medications += [(new, *row) for row in proto.medications[r.pk]]
            acknowledgements += [(new, *row, user.pk, at) for row in proto.acknowledgements[r.pk]]
        events += [_copied_event(e, n, cases[n], copies, user, at) for e in proto.events]
    _insert(Answer, ["response_id", "item_id", "value", "updated_at", "updated_by_id"], answers)
    _insert(
        MedicationEntry,
        ["response_id", "position", "name_as_typed", "dose", "frequency"]
        + ["matched_substance_id", "matched_name"],
        medications,
    )
    _insert(
        Acknowledgement,
        ["response_id", "flag_code", "severity", "reason", "comment"]
        + ["acknowledged_by_id", "acknowledged_at"],
        acknowledgements,
    )
    _insert(
        AuditEvent,
        ["at", "user_id", "username", "action", "object_type", "object_id", "case_id", "detail"],
        events,
    )


def _copied_event(e: AuditEvent, n: int, case: PatientCase, copies: dict, user, at) -> tuple:
    """A prototype's audit event as a row for the copy, pointing at the copied objects."""
    if e.object_type == "patientcase":
        object_id = str(case.pk)
    else:
        object_id = str(copies[(n, int(e.object_id))].pk)
    detail = e.detail
    if "amends" in detail:
        detail = {**detail, "amends": copies[(n, detail["amends"])].pk}
    detail = connection.ops.adapt_json_value(detail, None)
    return (at, user.pk, user.get_username(), e.action, e.object_type, object_id) + (
        case.pk,
        detail,
    )


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    """One prepared INSERT run over many rows: the bulk write for the big child tables.

    bulk_create builds a model instance and compiles every value for each row, which
    made a million answers take minutes; the values here are already adapted.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from our models)
        quote(model._meta.db_table),
        ", ".join(quote(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def seed_cases(count: int, seed: int) -> int:
    """Create `count` deterministic cases (skipping references already present).

    Cases 1 to PROTOTYPES are made through the write functions (cases.seed_prototypes: create,
    start, save each section, sign with acknowledgements, amend). Later cases copy one of
    those, chosen by the seed, with bulk inserts (case, revisions, answers, medications,
    acknowledgements and audit events), into the demo teams and synthetic ones.
    """
    service_cases.published_version()
    User = get_user_model()
    team_users = {
        DEMO_TEAM: [User.objects.get(username="clinician"), User.objects.get(username="colleague")],
        OTHER_TEAM: [User.objects.get(username="outsider")],
    }
    teams = {t.name: t for t in Team.objects.filter(name__in=team_users)}
    created, prototype_ids = service_cases.seed_prototypes(count, seed, teams, team_users)
    if count <= service_cases.PROTOTYPES:
        return created
    extra = extra_teams(count)
    team_users.update(extra)
    teams.update({t.name: t for t in Team.objects.filter(name__in=extra)})
    plans = _plan_copies(count, seed, teams, team_users, _load_prototypes(prototype_ids))
    now = timezone.now()
    for start in range(0, len(plans), BATCH):
        with transaction.atomic():
            _copy_batch(plans[start : start + BATCH], now)
    created += len(plans)
    # After a bulk load, refresh the planner's statistics (SQLite has none until ANALYZE,
    # and without them it sorts every visible case instead of walking case_list_order).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return created


def _plan_copies(count: int, seed: int, teams, team_users, prototypes) -> list[tuple]:
    """(prototype, team, user, reference, birth year) for each case past the prototypes
    that is not there yet; the same seed draws the same plan."""
    existing = set(
        PatientCase.objects.filter(reference__startswith=f"S{seed}-").values_list(
            "team__name", "reference"
        )
    )
    names = sorted(name for name in teams if name not in (DEMO_TEAM, OTHER_TEAM))
    plans = []
    for index in range(service_cases.PROTOTYPES, count):
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 (synthetic data, not security)
        roll = rng.random()
        team_name = DEMO_TEAM if roll < 0.4 else OTHER_TEAM if roll < 0.5 else rng.choice(names)
        user = rng.choice(team_users[team_name])
        reference = f"S{seed}-{index + 1:05d}"
        proto = prototypes[rng.randrange(len(prototypes))]
        birth_year = rng.randint(1950, 2005)
        if (team_name, reference) in existing:
            continue
        plans.append((proto, teams[team_name], user, reference, birth_year))
    return plans
