"""Summary first (issue 19 point 1): for the realistic patient of issue 16 (three
medicines, kratom and melatonin), note.txt opens with a summary of at most 40 lines and
the PDF's first page holds the whole summary."""

import io
import re

import pypdf
import pytest
from django.urls import reverse

from accounts.models import Profile
from checklists.authoring import files, loaders
from checklists.exports.text import DRAFT_BANNER

from .conftest import HttpsClient, login
from .factories import fill, make_case, make_response, make_team, make_user, sign
from .test_problems import PATIENT_ANSWERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(db):
    """The issue's patient, signed by a pharmacist with a profile; and a client of theirs."""
    loaders.load_template(files.read_json(files.CONTENT_DIR / "default_checklist.json"))
    team = make_team()
    user = make_user(teams=[team])
    Profile.objects.create(user=user, full_name="Dana Reyes", credential="PharmD")
    response = make_response(make_case(team, user, birth_year=1974), user)
    fill(response, user, PATIENT_ANSWERS)
    sign(response, user)
    response.refresh_from_db()
    return response, login(HttpsClient(), user)


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_text_note_opens_with_a_summary_of_at_most_40_lines(patient):
    response, client = patient
    text = client.get(reverse("export_note_txt", args=[response.pk])).content.decode()
    summary = text[: text.index("\n== 1. ")].splitlines()
    assert len(summary) <= 40, len(summary)
    body = "\n".join(summary)
    assert "== Summary ==" in body
    flags = response.flags_snapshot
    assert len(flags) >= 5
    for flag in flags:
        assert f"[{flag['severity'].capitalize()}" in body or flag["severity"] == "info"
        assert flag["title"] in body
    # Each serious problem with how it was acknowledged, right under it.
    assert body.count("  Acknowledged: Discussed; advised the patient against it.") == sum(
        1 for f in flags if f["severity"] in ("major", "contraindicated")
    )
    for needed in (
        "- Advice given:\n    Talk to the prescriber or pharmacist",
        "\n    Avoid alcohol, opioids and other sedatives with these products\n",
        "- Monitoring:\n    Liver warning signs",
        "- Follow-up: 2026-12-14",
        "- Who to call: Clinic nurse line",
        "Signed by Dana Reyes, PharmD on",
    ):
        assert needed in body, needed
    # ...and then every answer, and each problem in full.
    assert "== Cautions in full" in text[text.index("\n== 1. ") :]


def test_the_pdf_first_page_holds_the_whole_summary(patient):
    response, client = patient
    pdf = client.get(reverse("export_note_pdf", args=[response.pk])).content
    first = _words(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    for flag in response.flags_snapshot:
        assert _words(flag["title"])[:40] in first, flag["title"]
    assert "2026-12-14" in first
    assert "Clinic nurse line" in first
    assert "Dana Reyes, PharmD" in first


def test_the_print_view_puts_the_summary_before_the_answers(patient):
    response, client = patient
    page = client.get(reverse("export_print", args=[response.pk])).content.decode()
    assert page.index('id="overview-title"') < page.index('class="answers"')
    assert page.index('class="signer"') < page.index('class="answers"')


def test_a_draft_summary_says_what_is_left_to_acknowledge(db):
    loaders.load_template(files.read_json(files.CONTENT_DIR / "default_checklist.json"))
    team = make_team()
    user = make_user(teams=[team])
    response = make_response(make_case(team, user), user)
    fill(response, user, PATIENT_ANSWERS)
    client = login(HttpsClient(), user)
    text = client.get(reverse("export_note_txt", args=[response.pk])).content.decode()
    summary = text[: text.index("\n== 1. ")]
    assert summary.startswith(DRAFT_BANNER)
    assert "Not yet acknowledged (required before signing)." in summary
    assert "Not signed." in summary
