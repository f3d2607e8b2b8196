"""Plain make_* factories (no factory library): each builds one valid object."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from checklists.cases.cases import create_case
from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG, save_section, start_response
from checklists.cases.signing import record_signature
from checklists.models import (
    ChecklistResponse,
    ChecklistTemplate,
    Citation,
    Item,
    PatientCase,
    Section,
    Source,
    Team,
    TemplateVersion,
)
from checklists.roles import CLINICIAN, CONTENT_EDITOR, ensure_roles
from checklists.suppliers.lots import add_certificate, create_lot

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)

SECTION_KEYS = [
    "medication_interactions",
    "individual_variability",
    "legal_verification",
    "supplier_lab_testing",
    "plan_and_monitoring",
]


def make_user(username: str | None = None, *, role: str | None = CLINICIAN, teams=(), **extra):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_counter)}", password=PASSWORD, **extra
    )
    if role:
        user.groups.add(_role_group(role))
    for team in teams:
        team.members.add(user)
    return user


def _role_group(role: str):
    """The role's group: created with its permissions by the session's setup (conftest),
    so a persona costs one lookup, not ensure_roles' two dozen queries; made here when a
    flushed database lacks it."""
    from django.contrib.auth.models import Group

    return Group.objects.filter(name=role).first() or ensure_roles()[role]


def make_editor(username: str | None = None, **extra):
    """A content editor: staff (for the admin) in the Content editors group."""
    return make_user(username, role=CONTENT_EDITOR, is_staff=True, **extra)


def make_totp_device(user) -> TOTPDevice:
    """The user's confirmed authenticator app (the same one on every call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app")


def totp_code(device: TOTPDevice) -> str:
    """The code the authenticator app shows now (time-machine moves "now")."""
    from django_otp.oath import totp

    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def recovery_code(user) -> str:
    """A new single-use recovery code for `user` (the device is made when missing)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    return StaticToken.objects.create(device=device, token=StaticToken.random_token()).token


def make_team(name: str | None = None) -> Team:
    return Team.objects.create(name=name or f"Team {next(_counter)}")


def make_source(key: str = "seed-pain-sleep") -> Source:
    source, _ = Source.objects.get_or_create(
        key=key, defaults={"title": "Kratom for pain and sleep", "kind": "source_document"}
    )
    return source


def make_version(
    *, extra_items: int = 0, publish: bool = True, slug: str = DEFAULT_TEMPLATE_SLUG
) -> TemplateVersion:
    """A five-section checklist shaped like the default one, small and predictable.

    Section 1 asks which substances are in use; melatonin questions in section 4 show
    only when melatonin is chosen; a yes to "pregnant" raises a major caution; the plan
    has the follow-up date. `extra_items` adds optional short-text items to section 2.
    """
    template, _ = ChecklistTemplate.objects.get_or_create(
        slug=slug,
        defaults={
            "title": "Kratom & melatonin intake caution checklist",
            "canonical_url": "https://example.org/Questionnaire/km",
        },
    )
    number = (
        template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = TemplateVersion.objects.create(
        template=template, number=number, content_hash=f"hash-{number}"
    )
    source = make_source()
    sections = {
        key: Section.objects.create(
            version=version, key=key, title=key.replace("_", " ").capitalize(), position=pos
        )
        for pos, key in enumerate(SECTION_KEYS, start=1)
    }
    specs = [
        (
            "medication_interactions",
            "substances_in_use",
            "multi_choice",
            True,
            None,
            [{"code": "kratom", "label": "Kratom"}, {"code": "melatonin", "label": "Melatonin"}],
            None,
        ),
        (
            "medication_interactions",
            "current_medications",
            "medication_list",
            False,
            None,
            [],
            None,
        ),
        (
            "medication_interactions",
            "combined_use",
            "yes_no_unknown",
            True,
            {"item": "substances_in_use", "op": "includes", "value": "melatonin"},
            [],
            None,
        ),
        (
            "individual_variability",
            "pregnant",
            "yes_no_unknown",
            True,
            None,
            [],
            {
                "when": ["yes"],
                "severity": "major",
                "title": "Pregnancy reported",
                "advice": "Advise against use in pregnancy.",
            },
        ),
        ("individual_variability", "age_years", "number", False, None, [], None),
        ("legal_verification", "jurisdiction", "jurisdiction", True, None, [], None),
        (
            "supplier_lab_testing",
            "melatonin_label_checked",
            "yes_no_unknown",
            True,
            {"item": "substances_in_use", "op": "includes", "value": "melatonin"},
            [],
            None,
        ),
        ("supplier_lab_testing", "product_in_use", "product_lot", False, None, [], None),
        ("plan_and_monitoring", "follow_up_date", "date", True, None, [], None),
        ("plan_and_monitoring", "clinician_notes", "long_text", False, None, [], None),
    ]
    specs += [
        ("individual_variability", f"extra_{n}", "short_text", False, None, [], None)
        for n in range(extra_items)
    ]
    screening = {
        "substances_in_use": {
            "role": "substances",
            "map": {"kratom": "kratom", "melatonin": "melatonin"},
        },
        "current_medications": {"role": "medications"},
        "pregnant": {"role": "factors", "map": {"yes": "pregnant"}},
        "jurisdiction": {"role": "jurisdiction"},
        "product_in_use": {"role": "products"},
    }
    positions = dict.fromkeys(SECTION_KEYS, 0)
    for section_key, key, kind, required, show_when, options, caution in specs:
        positions[section_key] += 1
        item = Item.objects.create(
            version=version,
            section=sections[section_key],
            key=key,
            position=positions[section_key],
            prompt=f"Question {key}?",
            help_text=f"Why {key} matters.",
            kind=kind,
            options=options,
            required=required,
            show_when=show_when,
            caution=caution,
            screening=screening.get(key),
        )
        Citation.objects.create(item=item, source=source, locator="Section: safe practices")
    if publish:
        version.status = TemplateVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.save()
    return version


def make_case(team: Team, user, reference: str | None = None, **extra) -> PatientCase:
    return create_case(
        user=user, team=team, reference=reference or f"REF-{next(_counter)}", **extra
    )


def make_response(case: PatientCase, user):
    return start_response(case=case, user=user)


def make_bulk_responses(
    team: Team, user, version: TemplateVersion, count: int, *, status="signed", flags=()
) -> list[ChecklistResponse]:
    """`count` cases with one response each, by bulk_create (no answers, no audit): for
    tests that need many rows quickly. Signed ones carry `flags` as their snapshot."""
    now = timezone.now()
    signed = status != ChecklistResponse.Status.DRAFT
    cases = PatientCase.objects.bulk_create(
        PatientCase(team=team, reference=f"BULK-{next(_counter)}", created_by=user)
        for _ in range(count)
    )
    return ChecklistResponse.objects.bulk_create(
        ChecklistResponse(
            case=case,
            version=version,
            status=status,
            started_by=user,
            started_at=now,
            updated_at=now,
            signed_by=user if signed else None,
            signed_at=now if signed else None,
            flags_snapshot=list(flags) if signed else [],
        )
        for case in cases
    )


# Four weeks ahead of the day the suite runs: a fixed date becomes "due" on the day it names.
FOLLOW_UP_DATE = timezone.localdate() + datetime.timedelta(days=28)

COMPLETE_ANSWERS = {
    "medication_interactions": {
        "substances_in_use": ["kratom", "melatonin"],
        "current_medications": [{"name": "oxycodone", "dose": "5 mg", "frequency": "BID"}],
        "combined_use": "yes",
    },
    "individual_variability": {"pregnant": "no", "age_years": 40},
    "legal_verification": {"jurisdiction": "US-TX"},
    "supplier_lab_testing": {"melatonin_label_checked": "yes"},
    "plan_and_monitoring": {
        "follow_up_date": FOLLOW_UP_DATE.isoformat(),
        "clinician_notes": "Start low.",
    },
}


def fill(response, user, answers=COMPLETE_ANSWERS) -> None:
    for section in response.version.sections.order_by("position"):
        response.refresh_from_db(fields=["lock_version"])
        save_section(
            response=response,
            section=section,
            values=answers.get(section.key, {}),
            lock_version=response.lock_version,
            user=user,
        )
    response.refresh_from_db()


def load_knowledge() -> None:
    """The starter knowledge, legal table and lab limits from checklists/content/, as a new
    installation loads them: so `load_default_content` in a test finds its release loaded."""
    from checklists.authoring import bundle, files, release

    bundle.load_sources(files.read_json(files.CONTENT_DIR / "sources.json"))
    release.record_release()


def sign(response, user, reason: str = "advised_against"):
    """Sign a complete draft, acknowledging every serious flag with `reason`."""
    from checklists.cases.readmodel import load_state

    response.refresh_from_db()
    flags = load_state(response).flags
    acks = {f.code: (reason, "") for f in flags if f.needs_acknowledgement}
    return record_signature(
        response=response,
        user=user,
        attestation="ok",
        lock_version=response.lock_version,
        acknowledgements=acks,
    )


def make_lot_with_certificate(team: Team, user, *, tested_on=None):
    """A kratom lot recorded by `user` with one certificate (a one-page blank PDF)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfWriter

    lot = create_lot(
        user=user,
        team=team,
        supplier="S",
        product="P",
        substance="kratom",
        form="leaf_powder",
        labelled_amount_mg=None,
        lot_number="L-1",
    )
    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=100, height=100)
    writer.write(buffer)
    certificate = add_certificate(
        user=user,
        lot=lot,
        lab_name="Lab",
        accreditation_id="",
        coa_lot_number="L-1",
        tested_on=tested_on or timezone.localdate(),
        results={},
        upload=SimpleUploadedFile("c.pdf", buffer.getvalue()),
    )
    return lot, certificate
