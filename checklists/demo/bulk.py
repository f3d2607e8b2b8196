"""Demo teams, accounts and deterministic synthetic cases (demo mode only)."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from . import services
from .conditions import condition_holds
from .models import (
    Acknowledgement,
    Answer,
    AuditEvent,
    ChecklistResponse,
    ItemKind,
    MedicationEntry,
    PatientCase,
    Team,
    TemplateVersion,
)
from .roles import AUDITOR, CLINICIAN, CONTENT_EDITOR, SUPERVISOR, ensure_roles
from .walkthrough import load_state

ACK_REASONS = ["advised_against", "prescriber_informed", "monitoring_planned", "other"]

DEMO_TEAM, OTHER_TEAM = "Demo Clinic", "Other Clinic"

# The first PROTOTYPES cases go through the services one by one (exactly what a clinician
# would produce); every later case is a bulk copy of one of them, so 50,000 cases take
# minutes instead of hours and are just as valid.
PROTOTYPES = 40
BATCH = 1000
# Beyond the prototypes, cases also go to synthetic teams, one per CASES_PER_EXTRA_TEAM
# cases (at least one, at most MAX_EXTRA_TEAMS), each with one clinician (no password).
CASES_PER_EXTRA_TEAM = 2500
MAX_EXTRA_TEAMS = 20


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    team: str | None
    superuser: bool = False


DEMO_ACCOUNTS = [
    DemoAccount("clinician", CLINICIAN, DEMO_TEAM),
    DemoAccount("colleague", CLINICIAN, DEMO_TEAM),
    DemoAccount("outsider", CLINICIAN, OTHER_TEAM),
    DemoAccount("supervisor", SUPERVISOR, DEMO_TEAM),
    DemoAccount("editor", CONTENT_EDITOR, None),
    DemoAccount("auditor", AUDITOR, DEMO_TEAM),
    DemoAccount("admin", "", None, superuser=True),
]

MEDICATIONS = [
    "sertraline 50 mg",
    "OxyContin 20mg BID",
    "Luvox 100 mg",
    "metformin 500 mg",
    "warfarin 5 mg",
    "lisinopril 10 mg",
    "ibuprofen 400 mg",
    "zolpidem 10 mg",
]
JURISDICTIONS = ["US-TX", "US-CA", "US-LA", "US-UT", "US-FL", "GB", "US-OR", "US-NY"]


@transaction.atomic
def ensure_demo_accounts(password: str) -> list[DemoAccount]:
    groups = ensure_roles()
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in (DEMO_TEAM, OTHER_TEAM)}
    User = get_user_model()
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.is_superuser = user.is_staff = account.superuser
        if account.role == CONTENT_EDITOR:
            user.is_staff = True
        user.set_password(password)
        user.save()
        if account.role:
            user.groups.set([groups[account.role]])
        if account.team:
            teams[account.team].members.add(user)
    return DEMO_ACCOUNTS


def synthetic_value(item, rng: random.Random, case: PatientCase):
    kind = item.kind
    if kind in (ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE):
        return rng.choice(item.choices)["code"]
    if kind == ItemKind.MULTI_CHOICE:
        codes = [o["code"] for o in item.choices]
        return sorted(rng.sample(codes, k=rng.randint(1, min(2, len(codes)))))
    if kind == ItemKind.SHORT_TEXT:
        return "Synthetic entry"
    if kind == ItemKind.LONG_TEXT:
        return "Synthetic demo note; not a real patient."
    if kind == ItemKind.NUMBER:
        return rng.randint(1, 10)
    if kind == ItemKind.DATE:
        return (timezone.localdate() + datetime.timedelta(days=rng.randint(-10, 40))).isoformat()
    if kind == ItemKind.JURISDICTION:
        return case.jurisdiction or "US-TX"
    if kind == ItemKind.MEDICATION_LIST:
        return [
            {"name": name, "dose": "", "frequency": ""}
            for name in rng.sample(MEDICATIONS, k=rng.randint(0, 3))
        ] or None
    if kind == ItemKind.PRODUCT_LOT:
        return [{"product": "Demo leaf powder", "supplier": "Demo Botanicals", "lot": "K-100"}]
    return None


def fill_response(response: ChecklistResponse, user, rng: random.Random, *, sections: int) -> None:
    answers: dict = {}
    for section in response.version.sections.order_by("position")[:sections]:
        values = {}
        for item in section.items.order_by("position"):
            if condition_holds(item.show_when, answers):
                value = synthetic_value(item, rng, response.case)
                values[item.key] = value
                if value is not None:
                    answers[item.key] = value
        services.save_section(
            response=response,
            section=section,
            values=values,
            lock_version=response.lock_version,
            user=user,
        )


def _published_version() -> TemplateVersion:
    version = (
        TemplateVersion.objects.published()
        .filter(template__slug=services.DEFAULT_TEMPLATE_SLUG)
        .first()
    )
    if version is None:
        raise services.NoPublishedVersion("Run load_default_content first.")
    return version


def _sign(response: ChecklistResponse, user, rng: random.Random) -> None:
    flags = load_state(response).flags
    acknowledgements = {
        f.code: (rng.choice(ACK_REASONS), "Synthetic acknowledgement.")
        for f in flags
        if f.needs_acknowledgement
    }
    services.sign_response(
        acknowledgements=acknowledgements,
        response=response,
        user=user,
        attestation="Synthetic demo signature.",
        lock_version=response.lock_version,
    )


def _seed_one(index: int, seed: int, teams, team_users, rng: random.Random) -> None:
    """One case through the services: empty, a draft, signed, or signed then amended."""
    team_name = DEMO_TEAM if rng.random() < 0.8 else OTHER_TEAM
    user = rng.choice(team_users[team_name])
    stage = rng.random()
    case = services.create_case(
        user=user,
        team=teams[team_name],
        reference=f"S{seed}-{index + 1:05d}",
        jurisdiction=rng.choice(JURISDICTIONS),
        birth_year=rng.randint(1950, 2005),
    )
    if stage < 0.15:
        return
    response = services.start_response(case=case, user=user)
    full = stage >= 0.45
    fill_response(response, user, rng, sections=5 if full else rng.randint(1, 4))
    if not full:
        return
    _sign(response, user, rng)
    if stage >= 0.85:
        # Amended: the signed revision is corrected, the correction signed (superseding it).
        draft = services.amend_response(
            response=response, user=user, reason="Synthetic correction of the plan."
        )
        plan = draft.version.sections.get(key="plan_and_monitoring")
        fill_response_section(draft, plan, user, rng)
        _sign(draft, user, rng)


def fill_response_section(response, section, user, rng) -> None:
    state = load_state(response, with_flags=False)
    answers = {
        i.key: state.rows_by_item[i.id].value for i in state.items if i.id in state.rows_by_item
    }
    values = {}
    for item in section.items.order_by("position"):
        if condition_holds(item.show_when, answers):
            values[item.key] = synthetic_value(item, rng, response.case)
    services.save_section(
        response=response,
        section=section,
        values=values,
        lock_version=response.lock_version,
        user=user,
    )


def _extra_teams(count: int) -> dict[str, list]:
    """Synthetic teams beyond the demo ones, each with one clinician who cannot log in."""
    wanted = min(MAX_EXTRA_TEAMS, max(1, count // CASES_PER_EXTRA_TEAM))
    groups = ensure_roles()
    User = get_user_model()
    extra = {}
    for n in range(1, wanted + 1):
        team, _ = Team.objects.get_or_create(name=f"Synthetic Clinic {n:02d}")
        user, created = User.objects.get_or_create(username=f"synthetic{n:02d}")
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.set([groups[CLINICIAN]])
        team.members.add(user)
        extra[team.name] = [user]
    return extra


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
    copies = {}  # (case index, prototype response id) -> new response
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
        for e in proto.events:
            if e.object_type == "patientcase":
                object_id = str(cases[n].pk)
            else:
                object_id = str(copies[(n, int(e.object_id))].pk)
            detail = e.detail
            if "amends" in detail:
                detail = {**detail, "amends": copies[(n, detail["amends"])].pk}
            detail = ops.adapt_json_value(detail, None)
            events.append(
                (at, user.pk, user.get_username(), e.action, e.object_type, object_id)
                + (cases[n].pk, detail)
            )
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

    Cases 1 to PROTOTYPES are made through the services (create, start, save each
    section, sign with acknowledgements, amend). Later cases copy one of those, chosen
    by the seed, with bulk_create (case, revisions, answers, medications,
    acknowledgements and audit events), into the demo teams and synthetic ones.
    """
    _published_version()
    User = get_user_model()
    team_users = {
        DEMO_TEAM: [User.objects.get(username="clinician"), User.objects.get(username="colleague")],
        OTHER_TEAM: [User.objects.get(username="outsider")],
    }
    teams = {t.name: t for t in Team.objects.filter(name__in=team_users)}
    existing = set(
        PatientCase.objects.filter(reference__startswith=f"S{seed}-").values_list(
            "team__name", "reference"
        )
    )
    created = 0
    prototype_ids = []
    for index in range(min(count, PROTOTYPES)):
        # One generator per case, so a case's data does not depend on which others exist.
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 (synthetic data, not security)
        reference = f"S{seed}-{index + 1:05d}"
        found = PatientCase.objects.filter(reference=reference, team__in=teams.values()).first()
        if found is None:
            with transaction.atomic():
                _seed_one(index, seed, teams, team_users, rng)
            created += 1
            found = PatientCase.objects.get(reference=reference, team__in=teams.values())
        prototype_ids.append(found.pk)
    if count <= PROTOTYPES:
        return created

    extra = _extra_teams(count)
    team_users.update(extra)
    teams.update({t.name: t for t in Team.objects.filter(name__in=extra)})
    names = sorted(extra)
    prototypes = _load_prototypes(prototype_ids)
    now = timezone.now()
    plans = []
    for index in range(PROTOTYPES, count):
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
        if len(plans) == BATCH:
            with transaction.atomic():
                _copy_batch(plans, now)
            created += len(plans)
            plans = []
    if plans:
        with transaction.atomic():
            _copy_batch(plans, now)
        created += len(plans)
    # After a bulk load, refresh the planner's statistics (SQLite has none until ANALYZE,
    # and without them it sorts every visible case instead of walking case_list_order).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return created
