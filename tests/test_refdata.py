"""The knowledge base each process keeps in memory is never staler than the database.

Every process checks the reference-data token before using what it holds, and every
write to reference data changes the token in the same transaction. These tests edit
knowledge the ways editors and loaders do and check that the very next screening (or page)
shows the change, including when the edit is made by another process.
"""

import datetime
import html
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache.backends import locmem
from django.db import connection, transaction
from django.urls import reverse

from checklists import refdata, screening
from checklists.models import (
    InteractionRule,
    Jurisdiction,
    LegalStatus,
    ReferenceDataStamp,
    Source,
    SubstanceAlias,
    VariabilityRule,
)

from .conftest import login
from .factories import fill, load_knowledge, make_case, make_response, make_team, make_user

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 22)
OPIOID = "interaction:kratom:opioid-agonists"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def forget_afterwards():
    """Some tests write behind Django's back, which the cache cannot see (that is what
    they show); do not let what they cached leak into the next test."""
    yield
    refdata.cache().clear()


def screen(**intake):
    return screening.screen(screening.parse_intake(intake, today=TODAY))


def contributors(result) -> list:
    """Every rule hit of a screening (each is a contributor to one problem, issue 16)."""
    return [c for flag in result.flags for c in flag.contributors]


def severities(result) -> dict[str, str]:
    return {c.code: c.severity for c in contributors(result)}


def test_an_edited_rule_is_used_by_the_next_screening():
    assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == "major"
    rule = InteractionRule.objects.get(code=OPIOID)
    rule.severity = "contraindicated"
    rule.save(update_fields=["severity"])
    assert (
        severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID]
        == "contraindicated"
    )


def test_a_new_brand_name_matches_at_once():
    assert screen(substances=["kratom"], medications=["Zzyxoxy 5 mg"]).unmatched == ["Zzyxoxy 5 mg"]
    oxycodone = SubstanceAlias.objects.get(normalised="oxycodone").substance
    SubstanceAlias.objects.create(substance=oxycodone, name="Zzyxoxy")
    result = screen(substances=["kratom"], medications=["Zzyxoxy 5 mg"])
    assert result.unmatched == []
    assert OPIOID in severities(result)


def test_bulk_writes_and_deletes_change_the_token_too():
    screen(substances=["melatonin"], factors=["diabetes"])
    before = refdata.current_token()
    VariabilityRule.objects.filter(code="variability:diabetes:melatonin").update(severity="major")
    assert refdata.current_token() != before
    assert (
        severities(screen(substances=["melatonin"], factors=["diabetes"]))[
            "variability:diabetes:melatonin"
        ]
        == "major"
    )
    InteractionRule.objects.filter(code=OPIOID).delete()
    assert OPIOID not in severities(screen(substances=["kratom"], medications=["oxycodone"]))


def test_a_changed_source_list_is_shown_with_the_flag():
    flag = next(
        f
        for f in contributors(screen(substances=["kratom"], medications=["oxycodone"]))
        if f.code == OPIOID
    )
    extra = Source.objects.create(key="zz-new-review", title="A new review", kind="review")
    InteractionRule.objects.get(code=OPIOID).sources.add(extra)
    again = next(
        f
        for f in contributors(screen(substances=["kratom"], medications=["oxycodone"]))
        if f.code == OPIOID
    )
    assert again.sources == (*flag.sources, "A new review")


def test_a_new_legal_row_in_effect_is_used_at_once():
    before = screen(substances=["kratom"], jurisdiction="US-TX")
    assert "banned" not in {r.status for r in before.legal if r.substance == "kratom"}
    LegalStatus.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="US-TX"),
        substance="kratom",
        status="banned",
        effective_from=TODAY - datetime.timedelta(days=1),
        summary="Test ban.",
        verified_on=TODAY,
    )
    after = screen(substances=["kratom"], jurisdiction="US-TX")
    assert "banned" in {r.status for r in after.legal if r.jurisdiction == "US-TX"}


def test_an_edited_source_title_shows_on_the_section_page(client, version):
    team = make_team()
    user = make_user(teams=[team])
    response = make_response(make_case(team, user), user)
    fill(response, user)
    login(client, user)
    url = reverse("section", args=[response.pk, "individual_variability"])
    source = Source.objects.get(key="seed-pain-sleep")
    assert html.escape(source.title) in client.get(url).text
    source.title = "Renamed source: second edition"
    source.save(update_fields=["title"])
    assert "Renamed source: second edition" in client.get(url).text


def test_a_rolled_back_edit_is_forgotten():
    screen(substances=["kratom"], medications=["oxycodone"])
    with pytest.raises(RuntimeError), transaction.atomic():
        InteractionRule.objects.filter(code=OPIOID).update(severity="minor")
        assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == (
            "minor"
        )
        raise RuntimeError("the editor's transaction fails")
    assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == "major"


def test_a_write_that_bypasses_django_is_seen_after_max_age(monkeypatch):
    """SQL typed into a database console does not change the token: the cache holds such
    a change back for at most MAX_AGE seconds (documented in checklists/refdata.py)."""
    screen(substances=["kratom"], medications=["oxycodone"])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE checklists_interactionrule SET severity = 'minor' WHERE code = %s", [OPIOID]
        )
    assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == "major"
    # MAX_AGE seconds later, as the local-memory cache tells the time.
    later = time.time() + refdata.MAX_AGE + 1
    monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: later))
    assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == "minor"


def test_without_a_stamp_row_nothing_is_cached():
    ReferenceDataStamp.objects.all().delete()
    screen(substances=["kratom"], medications=["oxycodone"])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE checklists_interactionrule SET severity = 'minor' WHERE code = %s", [OPIOID]
        )
    assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == "minor"


def test_every_use_shares_one_knowledge_base_while_the_token_is_unchanged():
    """Pages share the knowledge base as it was built (no copy per request): the citations a
    frozen version keeps are tied to that very object."""
    first = screening.knowledge_base()
    assert screening.knowledge_base() is first
    Source.objects.create(key="zz-new-review", title="A new review", kind="review")
    assert screening.knowledge_base() is not first


def test_the_reference_cache_returns_what_it_was_given():
    """Not a pickled copy: what the cache holds is shared, read-only, by every request."""
    kept = {"sections": [object()]}
    refdata.cache().set("test-object", kept)
    assert refdata.cache().get("test-object") is kept
    assert refdata.cache().get_or_set("test-object", dict) is kept
    refdata.cache().clear()
    assert refdata.cache().get("test-object") is None


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


EDIT_IN_ANOTHER_PROCESS = """
import django
django.setup()
from checklists.models import InteractionRule
rule = InteractionRule.objects.get(code="interaction:kratom:opioid-agonists")
rule.severity = "contraindicated"
rule.save(update_fields=["severity"])
"""


@pytest.mark.django_db(transaction=True)
def test_an_edit_in_another_process_is_seen_by_this_one():
    """Two workers: this test's process holds the knowledge base in memory; a second
    Python process (another gunicorn worker, or another machine) saves a rule; the next
    screening here uses the new rule."""
    load_knowledge()  # committed, so the other process sees it
    assert severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID] == "major"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    subprocess.run(  # noqa: S603 (our interpreter, our script)
        [sys.executable, "-c", EDIT_IN_ANOTHER_PROCESS], env=env, cwd=ROOT, check=True
    )
    assert (
        severities(screen(substances=["kratom"], medications=["oxycodone"]))[OPIOID]
        == "contraindicated"
    )
