"""Data and a signed-in session for `make scan` (scan/run.sh), in the scan's own database.

Creates a clinic team, a clinician who has set up the second factor, two cases each with
a draft checklist (two and five sections filled), and prints the key of a session that
is past both login steps, the way the browser would hold it. Never run against a real
database: run.sh points DATABASE_URL at a throw-away SQLite file.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    if "scan" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("scan/prepare.py only runs against the scan database (see scan/run.sh).")
    from clinic.startup import load_settings

    load_settings()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from checklists.cases.cases import create_case
    from checklists.cases.drafts import start_response
    from checklists.demo.cases import fill_response
    from checklists.models import Team
    from checklists.roles import CLINICIAN, ensure_roles

    groups = ensure_roles()
    team = Team.objects.create(name="Scan Clinic")
    user = get_user_model().objects.create_user(
        "scan-clinician", password=secrets.token_urlsafe(24)
    )
    user.groups.add(groups[CLINICIAN])
    team.members.add(user)
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)

    import random

    rng = random.Random(8)  # noqa: S311 (synthetic data)
    for number in (1, 2):
        case = create_case(user=user, team=team, reference=f"SCAN-{number}", jurisdiction="US-TX")
        response = start_response(case=case, user=user)
        fill_response(response, user, rng, sections=5 if number == 2 else 2)

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    print(session.session_key)


if __name__ == "__main__":
    main()
