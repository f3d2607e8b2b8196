"""Demo teams, accounts and deterministic synthetic cases (demo mode only)."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import services
from .conditions import condition_holds
from .models import ChecklistResponse, ItemKind, PatientCase, Team, TemplateVersion
from .roles import AUDITOR, CLINICIAN, CONTENT_EDITOR, SUPERVISOR, ensure_roles
from .walkthrough import load_state

ACK_REASONS = ["advised_against", "prescriber_informed", "monitoring_planned", "other"]

DEMO_TEAM, OTHER_TEAM = "Demo Clinic", "Other Clinic"


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


def seed_cases(count: int, seed: int) -> int:
    """Create `count` deterministic cases (skipping references already present)."""
    version = (
        TemplateVersion.objects.published()
        .filter(template__slug=services.DEFAULT_TEMPLATE_SLUG)
        .first()
    )
    if version is None:
        raise services.NoPublishedVersion("Run load_default_content first.")
    User = get_user_model()
    team_users = {
        DEMO_TEAM: [User.objects.get(username="clinician"), User.objects.get(username="colleague")],
        OTHER_TEAM: [User.objects.get(username="outsider")],
    }
    teams = {t.name: t for t in Team.objects.filter(name__in=team_users)}
    created = 0
    for index in range(count):
        # One generator per case, so a case's data does not depend on which others exist.
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 (synthetic data, not security)
        team_name = DEMO_TEAM if rng.random() < 0.8 else OTHER_TEAM
        user = rng.choice(team_users[team_name])
        reference = f"S{seed}-{index + 1:05d}"
        jurisdiction = rng.choice(JURISDICTIONS)
        stage = rng.random()
        if PatientCase.objects.filter(team=teams[team_name], reference=reference).exists():
            continue
        with transaction.atomic():
            case = services.create_case(
                user=user,
                team=teams[team_name],
                reference=reference,
                jurisdiction=jurisdiction,
                birth_year=rng.randint(1950, 2005),
            )
            if stage < 0.15:
                created += 1
                continue
            response = services.start_response(case=case, user=user)
            full = stage >= 0.45
            fill_response(response, user, rng, sections=5 if full else rng.randint(1, 4))
            if full:
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
        created += 1
    return created
