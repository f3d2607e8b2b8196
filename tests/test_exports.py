"""Case-note exports (text, print, PDF, FHIR) and the bulk CSV, through the test client."""

import csv
import datetime
import io
import json

import pypdf
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Profile
from checklists.exports.fhir import ISSUE_SEVERITY_CODES, ISSUE_STATUS_CODES, QR_STATUS_CODES
from checklists.models import (
    AuditEvent,
    ChecklistResponse,
    InteractionRule,
    Jurisdiction,
    LegalStatus,
    Source,
    SubstanceAlias,
    VariabilityRule,
)

from .conftest import login
from .factories import (
    COMPLETE_ANSWERS,
    fill,
    make_bulk_responses,
    make_case,
    make_response,
    make_team,
    make_version,
    sign,
)

pytestmark = pytest.mark.django_db

T_START = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)
T_SIGN = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
PER_RESPONSE = ["export_note_txt", "export_print", "export_note_pdf", "export_fhir"]
HOSTILE = "=1+1 <script>alert('x')</script> フレームワークのベンチマーク"
SERIOUS = {"code": "item:pregnant", "category": "checklist", "severity": "major"}
SERIOUS_FLAG = {**SERIOUS, "title": "Pregnant", "advice": "Advise against.", "sources": []}
MINOR_FLAG = {**SERIOUS_FLAG, "code": "x:minor", "severity": "minor"}

ANSWERS = {
    **COMPLETE_ANSWERS,
    "individual_variability": {"pregnant": "yes", "age_years": 40},
    # The golden note's own date: these records are written and signed on fixed days.
    "plan_and_monitoring": {"follow_up_date": "2026-12-01", "clinician_notes": "Start low."},
}


@pytest.fixture
def predictable_knowledge(db):
    """No knowledge rules or names, and a fixed source title: the flags are then exactly
    the test checklist's own caution plus an "unmatched medicine" note, whatever the
    starter content says today."""
    InteractionRule.objects.all().delete()
    VariabilityRule.objects.all().delete()
    SubstanceAlias.objects.all().delete()
    Source.objects.filter(key="seed-pain-sleep").update(
        title="Kratom for pain and sleep", year=None
    )
    # One freshly verified, plainly legal row where the test patient lives: no legal flags.
    LegalStatus.objects.all().delete()
    LegalStatus.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="US-TX"),
        substance="kratom",
        status="legal",
        summary="Test row.",
        verified_on=T_START.date(),
        verified_by="test",
    )


def started(case, user, answers=ANSWERS):
    with time_machine.travel(T_START, tick=False):
        response = make_response(case, user)
        fill(response, user, answers)
    return response


def signed(case, user, answers=ANSWERS):
    response = started(case, user, answers)
    with time_machine.travel(T_SIGN, tick=False):
        sign(response, user)
    response.refresh_from_db()
    return response


def get(client, name, response):
    answer = client.get(reverse(name, args=[response.pk]))
    assert answer.status_code == 200, (name, answer.status_code)
    return answer


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def csv_rows(answer) -> list[dict]:
    text = b"".join(answer.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------------------ text note

GOLDEN_NOTE = """\
Kratom & melatonin intake caution checklist: case note
Case reference: MRN-1001 (team North Clinic)
Checklist version 1, content hash hash-1
Status: Signed, revision 1
Started 2026-11-20 09:00 UTC by clinician

== Summary ==
Problems (2):
- [Major] Pregnancy reported
  Acknowledged: Discussed; advised the patient against it.
- [Moderate] oxycodone: medicines not checked against the knowledge base
- Follow-up: 2026-12-01
Signed by Dana Reyes, PharmD on 2026-11-20 10:00 UTC

== 1. Medication interactions ==
- Question substances_in_use?: Kratom, Melatonin
- Question current_medications?: oxycodone · 5 mg · BID
- Question combined_use?: Yes

== 2. Individual variability ==
- Question pregnant?: Yes
- Question age_years?: 40

== 3. Legal verification ==
- Question jurisdiction?: US-TX

== 4. Supplier lab testing ==
- Question melatonin_label_checked?: Yes
- Question product_in_use?: Not answered

== 5. Plan and monitoring ==
- Question follow_up_date?: 2026-12-01
- Question clinician_notes?: Start low.

== Cautions in full (2) ==
- [Major] Pregnancy reported
  Advice: Advise against use in pregnancy.
  Sources: Kratom for pain and sleep
  Acknowledged by Dana Reyes, PharmD on 2026-11-20 10:00 UTC: Discussed; advised the patient \
against it.
- [Moderate] oxycodone: medicines not checked against the knowledge base
  Advice: This medicine did not match any name the knowledge base holds. Check it for \
interactions with kratom and melatonin yourself (pharmacist, interaction reference) and record \
what you found in the notes.

== Signature ==
Signed by Dana Reyes, PharmD on 2026-11-20 10:00 UTC
Registration number: RPh-4411
Attestation: "ok"
"""


def test_golden_text_note(clinician_client, clinician, case, version, predictable_knowledge):
    Profile.objects.create(
        user=clinician, full_name="Dana Reyes", credential="PharmD", registration_number="RPh-4411"
    )
    response = signed(case, clinician)
    answer = get(clinician_client, "export_note_txt", response)
    assert answer["Content-Type"] == "text/plain; charset=utf-8"
    assert answer["Content-Disposition"] == f'inline; filename="checklist-{response.pk}-note.txt"'
    assert answer.content.decode() == GOLDEN_NOTE


def test_draft_text_note_says_draft_first_and_last(clinician_client, clinician, case, version):
    response = started(case, clinician)
    lines = get(clinician_client, "export_note_txt", response).content.decode().splitlines()
    assert lines[0] == lines[-1] == "*** DRAFT: NOT SIGNED. NOT A FINAL RECORD. ***"
    assert "Status: Draft, revision 1" in lines
    assert "Not signed." in lines
    assert "  Not yet acknowledged (required before signing)." in lines


def test_response_page_offers_the_exports_and_a_copy_button(clinician_client, clinician, case):
    make_version()
    response = started(case, clinician)
    page = get(clinician_client, "response_detail", response).content.decode()
    for name in PER_RESPONSE:
        assert reverse(name, args=[response.pk]) in page
    assert 'class="btn btn-sm btn-outline-secondary copy-note"' in page
    assert "js/copy-note" in page and "<script>" not in page  # external script only


# ------------------------------------------------------------------------ print and PDF


def test_print_view_and_pdf_hold_the_key_fields(clinician_client, clinician, case, version):
    response = signed(case, clinician)
    page = get(clinician_client, "export_print", response).content.decode()
    pdf = get(clinician_client, "export_note_pdf", response)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].startswith("attachment;")
    text = "\n".join(pdf_pages(pdf.content))
    flat = " ".join(text.split())
    acknowledged = response.acknowledgements.get(flag_code="item:pregnant")
    expected = [
        "MRN-1001",
        "Kratom & melatonin intake caution checklist",
        "version 1",
        "hash-1",
        "Question substances_in_use? Kratom, Melatonin",
        "oxycodone · 5 mg · BID",
        "Question follow_up_date? 2026-12-01",
        "Advise against use in pregnancy.",
        acknowledged.get_reason_display(),
        "Signed by clinician on 2026-11-20 10:00 UTC",
        "Attestation: “ok”",
        "Page 1 of",
    ]
    for fragment in expected:
        assert fragment in flat, fragment
    in_page = [
        "MRN-1001",
        "Kratom &amp; melatonin intake caution checklist",
        "hash-1",
        '<th scope="row">Question substances_in_use?</th>',
        "<td>Kratom, Melatonin</td>",
        "Advice: Advise against use in pregnancy.",
        acknowledged.get_reason_display(),
        "Attestation: “ok”",
        "css/print",
    ]
    for fragment in in_page:
        assert fragment in page, fragment
    for flag in response.flags_snapshot:
        assert flag["title"].split(" (")[0] in flat


def test_draft_pdf_says_draft_and_the_case_on_every_page(client, clinician, team):
    make_version(extra_items=40)
    case = make_case(team, clinician, reference="MRN-2002")
    extra = {f"extra_{n}": f"Answer number {n}, long enough to wrap." for n in range(40)}
    answers = {**ANSWERS, "individual_variability": {**ANSWERS["individual_variability"], **extra}}
    response = started(case, clinician, answers)
    login(client, clinician)
    pages = pdf_pages(get(client, "export_note_pdf", response).content)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "DRAFT" in text and "Case MRN-2002" in text, number
        assert f"Page {number} of {len(pages)}" in text
    assert "DRAFT" in get(client, "export_print", response).content.decode()


# ------------------------------------------------------------------------ FHIR


def bundle_of(client, response) -> dict:
    answer = get(client, "export_fhir", response)
    assert answer["Content-Type"] == "application/fhir+json; charset=utf-8"
    data = json.loads(answer.content)
    Bundle.model_validate(data)  # R4B structure and types
    return data


def of_type(bundle: dict, resource_type: str) -> list[dict]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def test_fhir_bundle_validates_and_uses_the_value_sets(clinician_client, clinician, case, version):
    response = signed(case, clinician)
    data = bundle_of(clinician_client, response)
    assert data["type"] == "collection"
    (practitioner_url,) = [
        e["fullUrl"] for e in data["entry"] if e["resource"]["resourceType"] == "Practitioner"
    ]
    qr = data["entry"][0]["resource"]
    issues = of_type(data, "DetectedIssue")
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert qr["questionnaire"] == "https://example.org/Questionnaire/km|1"
    assert qr["status"] in QR_STATUS_CODES and qr["status"] == "completed"
    assert qr["subject"]["identifier"]["value"] == "MRN-1001"
    assert qr["authored"] == "2026-11-20T10:00:00Z"
    assert qr["author"]["display"] == "clinician"
    hash_ext = [e for e in qr["extension"] if e["url"].endswith("checklist-content-hash")]
    assert hash_ext[0]["valueString"] == "hash-1"

    sections = {s["linkId"]: {i["linkId"]: i for i in s["item"]} for s in qr["item"]}
    assert list(sections)[0] == "medication_interactions"
    answers = sections["medication_interactions"]["substances_in_use"]["answer"]
    assert [a["valueCoding"]["code"] for a in answers] == ["kratom", "melatonin"]
    assert sections["individual_variability"]["age_years"]["answer"] == [{"valueInteger": 40}]
    follow_up = sections["plan_and_monitoring"]["follow_up_date"]["answer"]
    assert follow_up == [{"valueDate": "2026-12-01"}]
    place = sections["legal_verification"]["jurisdiction"]["answer"][0]["valueCoding"]
    assert place == {"system": "urn:iso:std:iso:3166:-2", "code": "US-TX", "display": "US-TX"}
    medication = sections["medication_interactions"]["current_medications"]["answer"][0]
    assert medication["item"][0] == {
        "linkId": "current_medications.name",
        "text": "Name",
        "answer": [{"valueString": "oxycodone"}],
    }

    assert [i["code"]["coding"][0]["code"] for i in issues] == [
        f["code"] for f in response.flags_snapshot
    ]
    for issue, flag in zip(issues, response.flags_snapshot, strict=True):
        assert issue["resourceType"] == "DetectedIssue"
        assert issue["status"] in ISSUE_STATUS_CODES and issue["status"] == "final"
        assert issue["severity"] in ISSUE_SEVERITY_CODES
        # One DetectedIssue per problem: its contributors, then the advice (issue 16).
        assert issue["detail"].endswith(flag["advice"])
        if len(flag["contributors"]) > 1:
            assert issue["detail"].startswith("Contributors: ")
            assert all(c["subject"] in issue["detail"] for c in flag["contributors"])
        # The checklist, after any listed medicine the problem names (oxycodone: none).
        assert issue["implicated"][-1] == {"reference": data["entry"][0]["fullUrl"]}
        assert issue["author"] == {"reference": practitioner_url}
    pregnant = next(i for i in issues if i["code"]["coding"][0]["code"] == "item:pregnant")
    assert pregnant["severity"] == "high"
    assert pregnant["mitigation"][0]["action"]["coding"][0]["code"] == "advised_against"
    assert pregnant["mitigation"][0]["author"] == {"display": "clinician"}
    (statement,) = of_type(data, "MedicationStatement")
    assert statement["medicationCodeableConcept"]["text"] == "oxycodone"  # as entered
    assert statement["dosage"] == [{"text": "5 mg BID"}]


def test_draft_fhir_is_in_progress_with_preliminary_issues(clinician_client, clinician, case):
    make_version()
    data = bundle_of(clinician_client, started(case, clinician))
    assert data["entry"][0]["resource"]["status"] == "in-progress"
    assert not of_type(data, "Practitioner")  # no one signed yet
    issues = of_type(data, "DetectedIssue")
    assert issues and {i["status"] for i in issues} == {"preliminary"}
    assert not any("mitigation" in i for i in issues)


# ------------------------------------------------------------------------ revisions


def test_an_amended_checklist_carries_its_revision_chain(clinician_client, clinician, case):
    make_version()
    first = signed(case, clinician)
    # Amending is another screen's job; here the chain is laid down directly.
    ChecklistResponse.objects.filter(pk=first.pk).update(status="superseded")
    second = ChecklistResponse.objects.create(
        case=case,
        version=first.version,
        revision=2,
        amends=first,
        amend_reason="Wrong jurisdiction recorded.",
        started_by=clinician,
        status="signed",
        signed_by=clinician,
        signed_at=T_SIGN,
        attestation="ok",
    )
    note = get(clinician_client, "export_note_txt", second).content.decode()
    assert f"- Revision 1, checklist {first.pk}: Superseded, signed 2026-11-20 10:00 UTC" in note
    assert f"- Revision 2, checklist {second.pk} (this note): Signed" in note
    assert "Reason for amendment: Wrong jurisdiction recorded." in note
    assert (
        "(this note): Superseded"
        in get(clinician_client, "export_note_txt", first).content.decode()
    )
    assert (
        "Wrong jurisdiction recorded."
        in get(clinician_client, "export_print", second).content.decode()
    )
    qr = bundle_of(clinician_client, second)["entry"][0]["resource"]
    assert qr["status"] == "amended"
    amends = [e for e in qr["extension"] if e["url"].endswith("checklist-amends")]
    assert amends[0]["valueReference"]["identifier"]["value"] == str(first.pk)


# ------------------------------------------------------------------------ hostile answers


def test_hostile_answer_is_escaped_or_neutralised_in_all_five(
    client, clinician, supervisor, case, version
):
    answers = {
        **ANSWERS,
        "plan_and_monitoring": {"follow_up_date": "2026-12-01", "clinician_notes": HOSTILE},
    }
    response = signed(case, clinician, answers)
    login(client, supervisor)

    text = get(client, "export_note_txt", response)
    assert (
        text["Content-Type"].startswith("text/plain")
        and text["X-Content-Type-Options"] == "nosniff"
    )
    assert HOSTILE in text.content.decode()  # plain text, never interpreted

    page = get(client, "export_print", response).content.decode()
    assert "<script>alert" not in page
    assert (
        "=1+1 &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; フレームワークのベンチマーク"
        in page
    )

    pdf_text = " ".join(
        " ".join(pdf_pages(get(client, "export_note_pdf", response).content)).split()
    )
    assert "<script>alert('x')</script>" in pdf_text  # shown as text, not parsed as markup
    assert "フレームワークのベンチマーク" in pdf_text.replace(" ", "")  # may wrap mid-word

    fhir = get(client, "export_fhir", response).content
    assert b"<script>" not in fhir  # escaped as \\u003c even inside the JSON string
    data = json.loads(fhir)
    Bundle.model_validate(data)
    plan = next(
        s for s in data["entry"][0]["resource"]["item"] if s["linkId"] == "plan_and_monitoring"
    )
    notes = next(i for i in plan["item"] if i["linkId"] == "clinician_notes")
    assert notes["answer"] == [{"valueString": HOSTILE}]

    rows = csv_rows(client.get(reverse("export_responses_csv") + "?format=long"))
    cell = next(r["answer"] for r in rows if r["item_key"] == "clinician_notes")
    assert cell == "'" + HOSTILE


# ------------------------------------------------------------------------ access and audit


def test_anonymous_is_sent_to_login(client, clinician, case, version):
    response = make_response(case, clinician)
    urls = [reverse(n, args=[response.pk]) for n in PER_RESPONSE] + [
        reverse("export_responses_csv")
    ]
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith(reverse("login")), url
    assert not AuditEvent.objects.filter(action__startswith="export_").exists()


def test_outsider_gets_404_and_no_audit_row(outsider_client, clinician, case, version):
    response = make_response(case, clinician)
    for name in PER_RESPONSE:
        assert outsider_client.get(reverse(name, args=[response.pk])).status_code == 404, name
    assert not AuditEvent.objects.filter(action__startswith="export_").exists()


def test_every_export_is_audited(client, clinician, auditor, case, version):
    response = started(case, clinician)
    login(client, auditor)
    for name in PER_RESPONSE:
        get(client, name, response)
    b"".join(
        client.get(reverse("export_responses_csv") + "?status=draft&serious=on").streaming_content
    )
    events = AuditEvent.objects.filter(action__startswith="export_").order_by("id")
    assert [e.action for e in events] == [
        "export_text_note",
        "export_print",
        "export_pdf",
        "export_fhir",
        "export_csv",
    ]
    assert all(e.user == auditor for e in events)
    assert {e.case_id for e in events[:4]} == {case.pk}
    assert events[4].detail == {
        "format": "wide",
        "filters": {"status": "draft", "serious_only": True},
    }


def test_bulk_export_needs_the_permission(clinician_client):
    assert clinician_client.get(reverse("export_responses_csv")).status_code == 403
    assert not AuditEvent.objects.filter(action="export_csv").exists()


def test_bulk_export_form_only_for_exporters(clinician_client, supervisor_client, team):
    assert (
        "Export checklists (CSV)" not in clinician_client.get(reverse("case_list")).content.decode()
    )
    page = supervisor_client.get(reverse("case_list")).content.decode()
    assert "Export checklists (CSV)" in page and f'<option value="{team.pk}">' in page


def test_bad_filters_are_400(supervisor_client):
    url = reverse("export_responses_csv")
    get = supervisor_client.get
    assert get(url + "?date_from=2026-02-01&date_to=2026-01-01").status_code == 400
    assert get(url + "?status=lost").status_code == 400
    assert get(url + "?team=abc").status_code == 400


# ------------------------------------------------------------------------ CSV


@pytest.fixture
def exporter(client, supervisor):
    login(client, supervisor)
    return supervisor


def test_csv_rows_match_the_database_and_stay_in_the_users_teams(client, exporter, team):
    version = make_version()
    other = make_team("Elsewhere")
    make_bulk_responses(team, exporter, version, 7, flags=[SERIOUS_FLAG, MINOR_FLAG])
    make_bulk_responses(team, exporter, version, 5, flags=[MINOR_FLAG])
    make_bulk_responses(team, exporter, version, 3, status="draft")
    make_bulk_responses(other, exporter, version, 4, flags=[SERIOUS_FLAG])
    rows = csv_rows(client.get(reverse("export_responses_csv")))
    visible = ChecklistResponse.objects.filter(case__team=team)
    assert len(rows) == visible.count() == 15
    assert {r["team"] for r in rows} == {team.name}

    serious = csv_rows(client.get(reverse("export_responses_csv") + "?serious=on"))
    expected = [
        r.pk
        for r in visible
        if any(f["severity"] in ("major", "contraindicated") for f in r.flags_snapshot)
    ]
    assert sorted(int(r["response_id"]) for r in serious) == sorted(expected) and len(expected) == 7
    assert serious[0]["flags_major"] == "1" and serious[0]["flags_minor"] == "1"
    assert serious[0]["flag_codes"] == "item:pregnant x:minor"

    drafts = csv_rows(client.get(reverse("export_responses_csv") + "?status=draft"))
    assert len(drafts) == 3
    assert {(d["flags_major"], d["flag_codes"], d["signed_at"]) for d in drafts} == {("", "", "")}
    assert csv_rows(client.get(reverse("export_responses_csv") + f"?team={other.pk}")) == []


def test_csv_date_range_is_inclusive(client, exporter, team):
    version = make_version()
    old, new = make_bulk_responses(team, exporter, version, 2)
    ChecklistResponse.objects.filter(pk=old.pk).update(started_at=T_START)
    ChecklistResponse.objects.filter(pk=new.pk).update(
        started_at=T_START + datetime.timedelta(days=3)
    )
    url = reverse("export_responses_csv")
    one_day = csv_rows(client.get(url + "?date_from=2026-11-20&date_to=2026-11-20"))
    assert [int(r["response_id"]) for r in one_day] == [old.pk]
    later = csv_rows(client.get(url + "?date_from=2026-11-21"))
    assert [int(r["response_id"]) for r in later] == [new.pk]


def test_long_csv_has_one_row_per_answer(client, exporter, clinician, team):
    make_version()
    # A clinician of the team answers; the supervisor exports.
    case = make_case(team, clinician, reference="MRN-9")
    response = started(case, clinician)
    rows = csv_rows(client.get(reverse("export_responses_csv") + "?format=long"))
    assert len(rows) == response.answers.count() == 9
    by_key = {r["item_key"]: r for r in rows}
    assert by_key["substances_in_use"]["answer"] == "Kratom, Melatonin"
    assert by_key["substances_in_use"]["value_json"] == '["kratom", "melatonin"]'
    assert by_key["current_medications"]["answer"] == "oxycodone · 5 mg · BID"
    assert by_key["age_years"]["section"] == "individual_variability"
    assert by_key["age_years"]["prompt"] == "Question age_years?"


def test_csv_streams_in_chunks(client, exporter, team):
    version = make_version()
    make_bulk_responses(team, exporter, version, 2500)
    answer = client.get(reverse("export_responses_csv"))
    assert answer.streaming and answer["Content-Type"] == "text/csv; charset=utf-8"
    chunks = list(answer.streaming_content)
    assert [c.count(b"\r\n") for c in chunks] == [1001, 1000, 500]


@pytest.mark.parametrize("long", [False, True], ids=["wide", "long"])
def test_csv_queries_do_not_depend_on_the_number_of_responses(client, exporter, team, long):
    version = make_version()
    url = reverse("export_responses_csv") + ("?format=long" if long else "")
    counts = []
    for total in (10, 1000):
        make_bulk_responses(team, exporter, version, total - ChecklistResponse.objects.count())
        with CaptureQueriesContext(connection) as captured:
            rows = csv_rows(client.get(url))
        if not long:
            assert len(rows) == total
        counts.append(sum(1 for q in captured if "SAVEPOINT" not in q["sql"]))
    # session, user, second-factor device, permissions (two: the user's own and their
    # groups', through Django's has_perm), audit row, the export itself (+ the items for long)
    expected = 8 if long else 7
    assert counts == [expected, expected]


def test_formula_cells_are_neutralised():
    from checklists.exports.csv import neutralise

    for dangerous in ("=SUM(A1)", "+1", "-1+2", "@cmd", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("safe =1") == "safe =1" and neutralise(3) == 3 and neutralise(None) == ""


# ------------------------------------------------------------------------ command


def test_command_exports_csv_and_fhir_ndjson(tmp_path, clinician, case, version):
    first = signed(case, clinician)
    second = started(make_case(case.team, clinician), clinician)
    ChecklistResponse.objects.filter(pk=second.pk).update(
        updated_at=T_SIGN + datetime.timedelta(days=5)
    )

    out = io.StringIO()
    call_command("export_responses", format="csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [int(r["response_id"]) for r in rows] == [first.pk, second.pk]

    target = tmp_path / "bundles.ndjson"
    call_command(
        "export_responses", "--format", "fhir-ndjson", "--since", "2026-11-24", "-o", str(target)
    )
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    bundle = json.loads(lines[0])
    Bundle.model_validate(bundle)
    assert bundle["entry"][0]["resource"]["identifier"]["value"] == str(second.pk)

    events = AuditEvent.objects.filter(action__in=["export_csv", "export_fhir_ndjson"]).order_by(
        "id"
    )
    assert [(e.action, e.user, e.detail["via"]) for e in events] == [
        ("export_csv", None, "command"),
        ("export_fhir_ndjson", None, "command"),
    ]
    assert events[1].detail["filters"] == {"changed_since": "2026-11-24"}


def test_command_refuses_a_bad_date():
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_responses", "--since", "yesterday")
    # Nothing exported, nothing written (the trail may already hold the setup's events).
    assert AuditEvent.objects.count() == before
