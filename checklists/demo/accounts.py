"""Demo teams and accounts (demo mode only), and the synthetic teams of a large seed."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Profile

from ..models import Team
from ..roles import AUDITOR, CLINICIAN, CONTENT_EDITOR, SUPERVISOR, ensure_roles

DEMO_TEAM, OTHER_TEAM = "Demo Clinic", "Other Clinic"

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
    # The name and credentials a signature carries (accounts.models.Profile); synthetic.
    full_name: str = ""
    credential: str = ""


DEMO_ACCOUNTS = [
    DemoAccount("clinician", CLINICIAN, DEMO_TEAM, full_name="Dana Reyes", credential="PharmD"),
    DemoAccount("colleague", CLINICIAN, DEMO_TEAM, full_name="Sam Okafor", credential="NP"),
    DemoAccount("outsider", CLINICIAN, OTHER_TEAM, full_name="Lee Marsh", credential="MD"),
    DemoAccount("supervisor", SUPERVISOR, DEMO_TEAM, full_name="Ruth Adeyemi", credential="MD"),
    DemoAccount("editor", CONTENT_EDITOR, None, full_name="Jo Lindqvist", credential="PharmD"),
    # A second editor: the two-person rules (versions, knowledge, retiring) need one.
    DemoAccount("reviewer", CONTENT_EDITOR, None, full_name="Ann Kowalski", credential="RN"),
    DemoAccount("auditor", AUDITOR, DEMO_TEAM, full_name="Pat Moreno"),
    DemoAccount("admin", "", None, superuser=True, full_name="Site Administrator"),
]


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
        Profile.objects.update_or_create(
            user=user,
            defaults={"full_name": account.full_name, "credential": account.credential},
        )
    return DEMO_ACCOUNTS


def extra_teams(count: int) -> dict[str, list]:
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
