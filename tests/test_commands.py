"""seed_demo: demo mode only, deterministic, and usable with the demo accounts."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from checklists.models import Answer, ChecklistResponse, PatientCase, TemplateVersion

pytestmark = pytest.mark.django_db


def snapshot():
    cases = list(
        PatientCase.objects.order_by("team__name", "reference").values_list(
            "team__name", "reference", "jurisdiction", "birth_year"
        )
    )
    responses = list(
        ChecklistResponse.objects.order_by("case__reference", "revision").values_list(
            "case__reference", "status"
        )
    )
    answers = sorted(
        Answer.objects.values_list("response__case__reference", "item__key", "value"), key=repr
    )
    return cases, responses, answers


def test_refused_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("seed_demo", cases=3)
    assert not get_user_model().objects.exists()
    assert not TemplateVersion.objects.exists()  # refused before loading any content


def test_loads_the_default_content_on_a_database_without_it(settings, monkeypatch):
    """A new user's first `seed_demo` gets a working demo, not a traceback."""
    settings.DEMO_MODE = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo password for tests")
    assert not TemplateVersion.objects.published().exists()
    out = io.StringIO()
    call_command("seed_demo", cases=3, seed=2, stdout=out)
    assert "loading the default content first" in out.getvalue()
    # The intake and the follow-up review (issue 20).
    assert TemplateVersion.objects.published().count() == 2
    assert PatientCase.objects.count() == 3
    # Once loaded, a second run neither reloads it nor stores another version.
    out = io.StringIO()
    call_command("seed_demo", cases=3, seed=2, stdout=out)
    assert "default content" not in out.getvalue()
    assert TemplateVersion.objects.count() == 2


def test_creates_accounts_and_deterministic_cases(settings, monkeypatch):
    settings.DEMO_MODE = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo password for tests")
    call_command("load_default_content")
    out = io.StringIO()
    call_command("seed_demo", cases=12, seed=7, stdout=out)
    printed = out.getvalue()
    for name in ("clinician", "colleague", "outsider", "editor", "auditor", "admin"):
        assert name in printed
        assert get_user_model().objects.get(username=name).check_password("demo password for tests")
    assert "Password: demo password for tests" in printed
    assert PatientCase.objects.count() == 12
    statuses = set(ChecklistResponse.objects.values_list("status", flat=True))
    assert statuses == {"draft", "signed", "superseded"}  # superseded: amended since
    first = snapshot()

    # Running again adds nothing; a fresh database with the same seed gets the same data.
    call_command("seed_demo", cases=12, seed=7, stdout=io.StringIO())
    assert PatientCase.objects.count() == 12
    Answer.objects.all().delete()
    # Follow-up reviews first (issue 20): they point at the checklist they carried from.
    ChecklistResponse.objects.filter(carried_from__isnull=False).delete()
    ChecklistResponse.objects.filter(amends__isnull=False).delete()
    ChecklistResponse.objects.all().delete()
    PatientCase.objects.all().delete()
    call_command("seed_demo", cases=12, seed=7, stdout=io.StringIO())
    assert snapshot() == first


def test_demo_teams_are_separate(settings, monkeypatch):
    settings.DEMO_MODE = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo password for tests")
    call_command("load_default_content")
    call_command("seed_demo", cases=30, seed=1, stdout=io.StringIO())
    outsider = get_user_model().objects.get(username="outsider")
    clinician = get_user_model().objects.get(username="clinician")
    seen_by_outsider = set(PatientCase.objects.visible_to(outsider).values_list("pk", flat=True))
    seen_by_clinician = set(PatientCase.objects.visible_to(clinician).values_list("pk", flat=True))
    assert seen_by_clinician and seen_by_outsider.isdisjoint(seen_by_clinician)


def test_shell_imports_every_model_without_a_warning(capsys):
    """Django 5.2's shell used to print "17 objects could not be automatically imported"
    (the content history models, which django-simple-history names after the app)."""
    call_command("shell", command="print(HistoricalSource.__name__, Source.__name__)", verbosity=2)
    printed = capsys.readouterr()
    assert "could not be automatically imported" not in printed.out + printed.err
    assert "HistoricalSource Source" in printed.out
