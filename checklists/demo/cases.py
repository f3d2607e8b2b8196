"""Synthetic answers, and the prototype cases made through the write functions (demo mode only)."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from .. import screening
from ..cases.cases import create_case
from ..cases.drafts import DEFAULT_TEMPLATE_SLUG, NoPublishedVersion, save_section, start_response
from ..cases.followup import FOLLOW_UP_SLUG
from ..cases.prefill import CHECK_DATE_ROLE
from ..cases.readmodel import load_state
from ..cases.signing import amend_response, record_signature
from ..conditions import condition_holds
from ..models import ChecklistResponse, ItemKind, PatientCase, TemplateVersion
from .accounts import DEMO_TEAM, OTHER_TEAM

ACK_REASONS = ["advised_against", "prescriber_informed", "monitoring_planned", "other"]

# The first PROTOTYPES cases go through the write functions one by one (exactly what a clinician
# would produce); every later case is a bulk copy of one of them (bulk.py), so 50,000
# cases take minutes instead of hours and are just as valid.
PROTOTYPES = 40

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
        # A check of the law lies in the past; a review date may be either side of today.
        past = item.screening_role == CHECK_DATE_ROLE
        days = rng.randint(-10, 0) if past else rng.randint(-10, 40)
        return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()
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
        items = list(section.items.order_by("position"))
        for item in items:
            if condition_holds(item.show_when, answers):
                value = synthetic_value(item, rng, response.case)
                values[item.key] = value
                if value is not None:
                    answers[item.key] = value
        _agree_with_medicines(items, values, answers)
        save_section(
            response=response,
            section=section,
            values=values,
            lock_version=response.lock_version,
            user=user,
        )


def _agree_with_medicines(items, values: dict, answers: dict) -> None:
    """A synthetic "No" beside a listed medicine that answers the question would be a
    contradiction no clinician could sign (issue 16): answer such questions "yes", and tick
    the product a listed kratom or melatonin product shows in use (issue 17)."""
    names = [row["name"] for row in answers.get("current_medications") or []]
    if not names:
        return
    knowledge = screening.load_knowledge(names)
    matches = [screening.match_medication(name, knowledge) for name in names]
    for found in screening.reconcile(items, answers, matches):
        if found.contradiction and found.option:  # a product the products question left out
            chosen = [*answers[found.item_key], found.option]
            values[found.item_key] = answers[found.item_key] = chosen
        elif found.contradiction:
            values[found.item_key] = answers[found.item_key] = "yes"


def published_version() -> TemplateVersion:
    version = (
        TemplateVersion.objects.published().filter(template__slug=DEFAULT_TEMPLATE_SLUG).first()
    )
    if version is None:
        raise NoPublishedVersion("Run load_default_content first.")
    return version


def _sign(response: ChecklistResponse, user, rng: random.Random) -> None:
    flags = load_state(response).flags
    acknowledgements = {
        f.code: (rng.choice(ACK_REASONS), "Synthetic acknowledgement.")
        for f in flags
        if f.needs_acknowledgement
    }
    # A synthetic clinician has no one to type a password: the signature is recorded
    # without sign_response's check of who is signing.
    record_signature(
        acknowledgements=acknowledgements,
        response=response,
        user=user,
        attestation="Synthetic demo signature.",
        lock_version=response.lock_version,
    )


def _seed_one(index: int, seed: int, teams, team_users, rng: random.Random) -> None:
    """One case through the write functions: empty, a draft, signed, or signed then amended."""
    team_name = DEMO_TEAM if rng.random() < 0.8 else OTHER_TEAM
    user = rng.choice(team_users[team_name])
    stage = rng.random()
    case = create_case(
        user=user,
        team=teams[team_name],
        reference=f"S{seed}-{index + 1:05d}",
        jurisdiction=rng.choice(JURISDICTIONS),
        birth_year=rng.randint(1950, 2005),
    )
    if stage < 0.15:
        return
    response = start_response(case=case, user=user)
    full = stage >= 0.45
    fill_response(response, user, rng, sections=5 if full else rng.randint(1, 4))
    if not full:
        return
    _sign(response, user, rng)
    if stage >= 0.85:
        # Amended: the signed revision is corrected, the correction signed (superseding it).
        draft = amend_response(
            response=response, user=user, reason="Synthetic correction of the plan."
        )
        plan = draft.version.sections.get(key="plan_and_monitoring")
        fill_response_section(draft, plan, user, rng)
        _sign(draft, user, rng)
    elif stage >= 0.65:
        _seed_follow_up(case, user, rng)


def _seed_follow_up(case: PatientCase, user, rng: random.Random) -> None:
    """A signed follow-up review after the intake (issue 20), whose own next date (from
    ten days ago to forty ahead) leaves some cases overdue on the worklist."""
    try:
        review = start_response(case=case, user=user, template_slug=FOLLOW_UP_SLUG)
    except NoPublishedVersion:
        return  # content loaded before the follow-up review existed
    fill_response(review, user, rng, sections=review.version.sections.count())
    _sign(review, user, rng)


def fill_response_section(response, section, user, rng) -> None:
    state = load_state(response, with_flags=False)
    answers = {
        i.key: state.rows_by_item[i.id].value for i in state.items if i.id in state.rows_by_item
    }
    values = {}
    for item in section.items.order_by("position"):
        if condition_holds(item.show_when, answers):
            # The new value, not the amended revision's, decides the items after it (a
            # required item shown by it must be answered too).
            values[item.key] = answers[item.key] = synthetic_value(item, rng, response.case)
    save_section(
        response=response,
        section=section,
        values=values,
        lock_version=response.lock_version,
        user=user,
    )


def seed_prototypes(count: int, seed: int, teams: dict, team_users: dict) -> tuple[int, list[int]]:
    """Cases 1 to min(count, PROTOTYPES) through the write functions, skipping those present.

    Returns how many were created and the ids of all of them (the bulk copy's models).
    """
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
    return created, prototype_ids
