"""Ask only what is not known (issue 18, points 1 and 2).

The case's place and birth year start the place and age-band answers; questions about a
substance the patient neither takes nor considers, and the certificate's content without a
certificate, are not asked; the clinician's own check of the law is per substance, its date
today unless changed; the legal table arrives with the autosave, without a reload.
"""

import datetime
import html
import json
import re

import pytest
from django.urls import reverse

from checklists import screening
from checklists.authoring import files, loaders
from checklists.authoring.files import ContentError
from checklists.authoring.validation import content_problems
from checklists.cases.prefill import age_band
from checklists.cases.readmodel import load_state
from checklists.conditions import condition_holds, missing_required, split_at_page, visible_keys
from checklists.models import LegalStatus

from .factories import fill, make_case, make_response

pytestmark = pytest.mark.django_db

BANDS = {"under_18": [0, 17], "18_64": [18, 64], "65_plus": [65, 130]}
DAY = datetime.date(2026, 11, 30)
SOURCE_KEYS = {s["key"] for s in files.read_json(files.CONTENT_DIR / "sources.json")}


@pytest.fixture
def default(db):
    return loaders.load_template(files.read_json(files.CONTENT_DIR / "default_checklist.json"))


def section_page(client, response, key):
    return client.get(reverse("section", args=[response.pk, key]))


# --- conditions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition,answers,holds",
    [
        # "in" on a several-choice answer: any chosen option.
        ({"item": "s", "op": "in", "value": ["k", "ck"]}, {"s": ["m", "ck"]}, True),
        ({"item": "s", "op": "in", "value": ["k", "ck"]}, {"s": ["m"]}, False),
        ({"item": "s", "op": "in", "value": ["k", "ck"]}, {"s": "k"}, True),
        ({"item": "s", "op": "in", "value": ["k", "ck"]}, {}, False),
        # "all": every part.
        (
            {
                "all": [
                    {"item": "s", "op": "includes", "value": "k"},
                    {"item": "c", "op": "equals", "value": "yes"},
                ]
            },  # noqa: E501
            {"s": ["k"], "c": "yes"},
            True,
        ),
        (
            {
                "all": [
                    {"item": "s", "op": "includes", "value": "k"},
                    {"item": "c", "op": "equals", "value": "yes"},
                ]
            },  # noqa: E501
            {"s": ["k"], "c": "no"},
            False,
        ),
        (
            {
                "all": [
                    {"item": "s", "op": "includes", "value": "k"},
                    {"item": "c", "op": "equals", "value": "yes"},
                ]
            },  # noqa: E501
            {"s": ["m"], "c": "yes"},
            False,
        ),
    ],
)
def test_conditions(condition, answers, holds):
    assert condition_holds(condition, answers) is holds


def test_a_joined_condition_leaves_the_page_only_its_own_part():
    condition = {
        "all": [
            {"item": "s", "op": "includes", "value": "k"},
            {"item": "c", "op": "equals", "value": "yes"},
        ]
    }
    assert split_at_page(condition, {"c"}, {"s": ["k"]}) == (True, condition["all"][1])
    # The part about another page fails: the page cannot reveal the question.
    assert split_at_page(condition, {"c"}, {"s": ["m"]}) == (False, condition["all"][1])
    assert split_at_page(condition, {"s", "c"}, {}) == (True, condition)


@pytest.mark.parametrize(
    "birth_year,band",
    [(1974, "18_64"), (2008, None), (2009, "under_18"), (1961, None), (1960, "65_plus")],
)
def test_the_age_band_comes_from_the_birth_year_only_when_no_birthday_decides(birth_year, band):
    # On 2026-11-30 someone born in 2008 is 17 or 18: asked; born in 1961, 64 or 65: asked.
    assert age_band(BANDS, birth_year, DAY) == band


# --- content validation -----------------------------------------------------------------


def _item(key, **extra):
    return {
        "key": key,
        "prompt": "A question",
        "kind": "yes_no_unknown",
        "citations": [{"source": "x"}],
        **extra,
    }


def test_a_joined_condition_must_refer_to_earlier_items():
    later = {"all": [{"item": "a", "op": "answered"}, {"item": "c", "op": "answered"}]}
    problems = content_problems([{"items": [_item("a"), _item("b", show_when=later), _item("c")]}])
    assert any("'c', which comes later" in p for p in problems)


def test_and_with_one_of_several_is_refused_as_fhir_cannot_say_it():
    condition = {
        "all": [
            {"item": "a", "op": "in", "value": ["yes", "unknown"]},
            {"item": "b", "op": "equals", "value": "yes"},
        ]
    }
    problems = content_problems(
        [{"items": [_item("a"), _item("b"), _item("c", show_when=condition)]}]
    )
    assert any("cannot also ask" in p for p in problems)


@pytest.mark.parametrize(
    "show_when,message",
    [
        ({"all": [{"item": "a", "op": "answered"}]}, "two or more"),
        ({"all": [{"item": "a", "op": "answered"}], "item": "a"}, "nothing else"),
        ({"all": [{"item": "a", "op": "nearly"}, {"item": "a", "op": "answered"}]}, "operator"),
    ],
)
def test_a_malformed_joined_condition_is_refused_on_import(show_when, message):
    data = files.read_json(files.CONTENT_DIR / "default_checklist.json")
    data["sections"][0]["items"][2]["show_when"] = show_when
    with pytest.raises(ContentError, match=message):
        files.validate_template_data(data, SOURCE_KEYS)


@pytest.mark.parametrize(
    "ages", [{"nobody": [0, 17]}, {"under_18": [17, 0]}, {"under_18": ["0", 17]}, []]
)
def test_age_bands_must_name_the_items_own_options(ages):
    data = files.read_json(files.CONTENT_DIR / "default_checklist.json")
    item = next(i for s in data["sections"] for i in s["items"] if i["key"] == "age_band")
    item["screening"]["ages"] = ages
    with pytest.raises(ContentError, match="ages"):
        files.validate_template_data(data, SOURCE_KEYS)


# --- the checklist ----------------------------------------------------------------------


def test_the_case_fills_the_place_and_the_age_band_marked_from_the_case(
    clinician_client, clinician, team, default
):
    case = make_case(team, clinician, birth_year=1974, jurisdiction="US-TX")
    response = make_response(case, clinician)
    page = section_page(clinician_client, response, "legal_verification").content.decode()
    assert 'value="Texas (US-TX)"' in page and "From the case:" in page
    page = section_page(clinician_client, response, "individual_variability").content.decode()
    assert re.search(r'name="age_band" value="18_64"[^>]*checked', page)
    assert "From the case:" in page
    # An answer given wins over the case, and is not marked.
    fill(response, clinician, {"legal_verification": {"jurisdiction": "US-OR"}})
    page = section_page(clinician_client, response, "legal_verification").content.decode()
    assert "(US-OR)" in page and "From the case:" not in page


def test_a_birth_year_on_a_band_edge_leaves_the_age_band_to_ask(
    clinician_client, clinician, team, default
):
    case = make_case(team, clinician, birth_year=DAY.year - 65, jurisdiction="US-TX")
    page = section_page(clinician_client, make_response(case, clinician), "individual_variability")
    assert (
        "checked" not in page.content.decode().split('name="age_band"')[1].split("</fieldset>")[0]
    )


def test_questions_about_a_substance_not_in_the_picture_are_not_asked(clinician, team, default):
    case = make_case(team, clinician)
    response = make_response(case, clinician)
    fill(response, clinician, {"medication_interactions": {"substances_in_use": ["melatonin"]}})
    state = load_state(response)
    visible = visible_keys(state.items, state.answers)
    kratom_only = {
        "kratom_interacting_medicines",
        "kratom_serotonergic_medicines",
        "kratom_for_withdrawal",
        "local_restrictions",
        "kratom_legal_status_found",
        "kratom_minimum_age_met",
        "concentrated_7oh_product",
        "kratom_legal_check_source",
    }
    assert not kratom_only & visible
    assert {"melatonin_interacting_medicines", "melatonin_prescription_only"} <= visible
    assert not kratom_only & {i.key for i in missing_required(state.items, state.answers)}
    # Considering kratom is enough to be asked about it.
    fill(
        response,
        clinician,
        {"medication_interactions": {"substances_in_use": ["considering_kratom"]}},
    )
    state = load_state(response)
    assert kratom_only <= visible_keys(state.items, state.answers)


def test_the_certificates_content_is_asked_only_with_a_certificate(
    clinician_client, clinician, team, default
):
    response = make_response(make_case(team, clinician), clinician)
    kratom = {"medication_interactions": {"substances_in_use": ["kratom"]}}
    content = {"kratom_7oh_share", "kratom_adulterants_absent"}
    for answer, shown in (("no", False), ("unknown", False), ("yes", True)):
        fill(response, clinician, {**kratom, "supplier_lab_testing": {"coa_available": answer}})
        state = load_state(response)
        assert (content <= visible_keys(state.items, state.answers)) is shown
    # On the page, the question waits for "yes" in the script: its condition is only the
    # certificate's, as kratom use was settled in section 1.
    page = section_page(clinician_client, response, "supplier_lab_testing").content.decode()
    shown_when = re.search(r'id="item-kratom_7oh_share" data-show-when="([^"]*)"', page)
    assert json.loads(html.unescape(shown_when.group(1))) == {
        "item": "coa_available",
        "op": "equals",
        "value": "yes",
    }
    # Without kratom the page does not carry the questions at all.
    melatonin = {"medication_interactions": {"substances_in_use": ["melatonin"]}}
    fill(response, clinician, {**melatonin, "supplier_lab_testing": {"coa_available": "yes"}})
    page = section_page(clinician_client, response, "supplier_lab_testing").content.decode()
    assert 'id="item-kratom_7oh_share"' not in page


def test_each_substance_has_its_own_check_of_the_law(clinician, team, default):
    """Melatonin is no longer credited with the kratom statute the clinician read."""
    LegalStatus.objects.filter(jurisdiction__code__in=["US", "US-TX"]).update(
        verified_on=datetime.date(2020, 1, 1)
    )
    response = make_response(make_case(team, clinician, birth_year=1974), clinician)
    today = datetime.date.today().isoformat()
    fill(
        response,
        clinician,
        {
            "medication_interactions": {"substances_in_use": ["kratom", "melatonin"]},
            "legal_verification": {
                "jurisdiction": "US-TX",
                "kratom_legal_check_source": "Texas Health and Safety Code ch. 444",
                "kratom_legal_check_date": today,
            },
        },
    )
    codes = {f.code for flag in load_state(response).flags for f in flag.contributors}
    assert "legal:clinician-verified:US-TX:kratom" in codes
    assert "legal:unverified:US-TX:kratom" not in codes
    # The US melatonin row is stale: melatonin still needs its own check.
    assert LegalStatus.objects.filter(substance="melatonin", jurisdiction__code="US").exists()
    assert "legal:unverified:US-TX:melatonin" in codes


def test_the_check_date_starts_as_today(clinician_client, clinician, team, default):
    response = make_response(make_case(team, clinician), clinician)
    fill(response, clinician, {"medication_interactions": {"substances_in_use": ["kratom"]}})
    page = section_page(clinician_client, response, "legal_verification").content.decode()
    field = page.split('name="kratom_legal_check_date"')[1].split(">")[0]
    assert f'value="{datetime.date.today().isoformat()}"' in field


def test_a_check_of_the_law_dated_after_today_is_refused_with_its_reason(
    clinician_client, clinician, team, default
):
    """Screening never counts a check from the future (rules/legal._own_check): the form
    says so at once instead of leaving the caution standing without a word."""
    from checklists.models import Answer

    response = make_response(make_case(team, clinician), clinician)
    fill(response, clinician, {"medication_interactions": {"substances_in_use": ["kratom"]}})
    page = section_page(clinician_client, response, "legal_verification").content.decode()
    field = page.split('name="kratom_legal_check_date"')[1].split(">")[0]
    assert f'max="{datetime.date.today().isoformat()}"' in field
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    response.refresh_from_db()
    answer = clinician_client.post(
        reverse("section", args=[response.pk, "legal_verification"]),
        {
            "jurisdiction": "US-TX",
            "kratom_legal_check_source": "Texas Health and Safety Code ch. 444",
            "kratom_legal_check_date": tomorrow.isoformat(),
            "lock_version": response.lock_version,
        },
    )
    assert answer.status_code == 200
    assert "A check of the law cannot be dated after today." in answer.content.decode()
    dates = Answer.objects.filter(response=response, item__key="kratom_legal_check_date")
    assert not dates.exists()


@pytest.mark.parametrize(
    "legal_check,message",
    [
        ({"kratom": {"consulted": "x"}}, "legal_check.kratom"),
        ({"betel": {"consulted": "x", "on": "2026-11-01"}}, "one per substance"),
        ({"kratom": {"consulted": "x", "on": "soon"}}, "legal_check.kratom.on"),
        ([], "one per substance"),
    ],
)
def test_the_screen_intake_takes_one_check_per_substance_or_one_for_all(legal_check, message):
    with pytest.raises(screening.IntakeError, match=message):
        screening.parse_intake({"legal_check": legal_check}, today=DAY)
    both = screening.parse_intake(
        {"legal_check": {"consulted": "HSC 444", "on": "2026-11-01"}}, today=DAY
    )
    assert set(both.legal_checks) == {"kratom", "melatonin"}
    one = screening.parse_intake(
        {"legal_check": {"melatonin": {"consulted": "FDA", "on": "2026-11-01"}}}, today=DAY
    )
    assert one.legal_check("kratom") is None and one.legal_check("melatonin")["consulted"] == "FDA"


def test_the_autosave_brings_the_legal_table_without_a_reload(
    clinician_client, clinician, team, default
):
    response = make_response(make_case(team, clinician), clinician)
    fill(response, clinician, {"medication_interactions": {"substances_in_use": ["kratom"]}})
    response.refresh_from_db()
    answer = clinician_client.post(
        reverse("section", args=[response.pk, "legal_verification"]),
        {"jurisdiction": "Louisiana", "lock_version": response.lock_version},
        HTTP_HX_REQUEST="true",
    )
    body = answer.content.decode()
    assert answer.status_code == 200 and "Saved at" in body
    table = body.split('<div id="legal-status" aria-live="polite" hx-swap-oob="true">')[1]
    assert "Louisiana" in table and "Banned" in table
    # Another section's autosave does not redraw a table its page does not have.
    response.refresh_from_db()
    answer = clinician_client.post(
        reverse("section", args=[response.pk, "plan_and_monitoring"]),
        {"who_to_call": "Clinic", "lock_version": response.lock_version},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="legal-status"' not in answer.content.decode()


def test_the_autosave_carries_what_the_medicine_list_answers(
    clinician_client, clinician, team, default
):
    """Typed on the same page as the questions: the reply names the answers the list gives
    to questions still open, for the page to tick (static/js/medicine-answers.js)."""
    response = make_response(make_case(team, clinician), clinician)
    answer = clinician_client.post(
        reverse("section", args=[response.pk, "medication_interactions"]),
        {
            "current_medications-0-name": "tramadol",
            "current_medications-1-name": "alprazolam",
            "current_medications-2-name": "kratom powder",
            "sedative_use": "unknown",
            "lock_version": response.lock_version,
        },
        HTTP_HX_REQUEST="true",
    )
    body = answer.content.decode()
    holder = body.split('<div id="reconciliation" hx-swap-oob="true" data-prefill="')[1]
    prefill = json.loads(html.unescape(holder.split('"')[0]))
    # The opioid question is open: "yes"; kratom is in use. "Unknown" beside alprazolam is
    # an answer: not overwritten.
    assert prefill["opioid_use"] == "yes"
    assert prefill["substances_in_use"] == ["kratom"]
    assert "sedative_use" not in prefill
    assert "Answered by the medicine list" in holder and "tramadol" in holder


def test_the_case_place_shows_its_legal_table_before_any_save(
    clinician_client, clinician, team, default
):
    response = make_response(make_case(team, clinician, jurisdiction="US-LA"), clinician)
    page = section_page(clinician_client, response, "legal_verification").content.decode()
    table = page.split('<div id="legal-status" aria-live="polite">')[1].split("</ul>")[0]
    assert "Louisiana" in table and "Banned" in table
    assert "has no row in the legal table" not in page
    # The case's place screens the draft until the question is answered.
    fill(response, clinician, {"medication_interactions": {"substances_in_use": ["kratom"]}})
    codes = {f.code for flag in load_state(response).flags for f in flag.contributors}
    assert "legal:banned:US-LA:kratom" in codes
    fill(
        response,
        clinician,
        {
            "medication_interactions": {"substances_in_use": ["kratom"]},
            "legal_verification": {"jurisdiction": "US-OR"},
        },
    )
    codes = {f.code for flag in load_state(response).flags for f in flag.contributors}
    assert "legal:banned:US-LA:kratom" not in codes
