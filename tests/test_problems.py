"""Cautions as clinical problems (issue 16): one flag per problem, named as a statement,
with its contributors; the patient's own medicines with each other; titles never questions.
"""

import datetime
import json

import pytest
from django.core.management import call_command

from checklists import screening
from checklists.authoring import files, loaders
from checklists.authoring.validation import content_problems, validate_version
from checklists.cases.readmodel import load_state
from checklists.models import CombinationRule, InteractionRule, Item, Problem, VariabilityRule

from .factories import fill, make_case, make_response, make_team, make_user, make_version

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 30)
K, M, KM = ["kratom"], ["melatonin"], ["kratom", "melatonin"]

# The patient: 52, Texas, daily kratom powder for back pain, wants melatonin;
# sertraline, tramadol as needed, alprazolam at night; mild liver disease; an online
# vendor's lot with no certificate of analysis.
PATIENT = {
    "substances": KM,
    "medications": ["sertraline 100 mg daily", "tramadol 50 mg prn", "alprazolam 0.5 mg nocte"],
    "age_years": 52,
    "factors": ["hepatic_impairment"],
    "jurisdiction": "US-TX",
    "products": [{"substance": "kratom", "form": "powder", "label_lot": "OV-2291"}],
}

CNS, SEROTONIN, SEIZURE = (
    "problem:cns-depression",
    "problem:serotonin-toxicity",
    ("problem:seizure-threshold"),
)
LEVELS, LIVER, PRODUCT = "problem:drug-levels", "problem:liver-injury", "problem:product-quality"
OPIOID_BENZO = "combination:opioid-agonists:benzodiazepines"
SEROTONERGIC = "combination:serotonergic-drugs"
CYP2D6 = "combination:cyp2d6-prodrug-opioids:cyp2d6-inhibitors"
TRAMADOL_SSRI = "combination:tramadol:ssris"
SEIZURE_PAIR = "combination:seizure-threshold-lowering"

# (intake, {problem code: (severity, contributor codes it must include)}, problem codes absent)
CASES = [
    (
        PATIENT,
        {
            CNS: ("major", {OPIOID_BENZO, "interaction:kratom:opioid-agonists"}),
            SEROTONIN: ("major", {SEROTONERGIC}),
            SEIZURE: ("moderate", {TRAMADOL_SSRI}),
            LEVELS: ("moderate", {CYP2D6, "interaction:kratom:cyp2d6-substrates"}),
            LIVER: ("major", {"variability:hepatic_impairment:kratom"}),
            PRODUCT: ("major", {"lab:OV-2291:no-coa"}),
        },
        [],
    ),
    (
        {"substances": K, "medications": ["oxycodone"]},
        {CNS: ("major", {"interaction:kratom:opioid-agonists"})},
        [SEROTONIN, SEIZURE],
    ),
    (
        {"substances": M, "medications": ["oxycodone 5 mg", "lorazepam 1 mg"]},
        {CNS: ("major", {OPIOID_BENZO, "interaction:melatonin:benzodiazepines"})},
        [],
    ),
    # Without kratom or melatonin in the picture, the medicines are not screened together.
    ({"medications": ["oxycodone", "alprazolam"]}, {}, [CNS]),
    (
        {"substances": M, "medications": ["sertraline", "tramadol"]},
        {
            SEROTONIN: ("major", {SEROTONERGIC}),
            SEIZURE: ("moderate", {TRAMADOL_SSRI}),
            LEVELS: ("moderate", {CYP2D6}),
            CNS: ("moderate", {"interaction:melatonin:opioid-agonists"}),
        },
        [],
    ),
    (
        {"substances": K, "medications": ["Prozac 20 mg", "codeine 30 mg"]},
        {LEVELS: ("moderate", {CYP2D6}), CNS: ("major", {"interaction:kratom:opioid-agonists"})},
        [SEROTONIN],
    ),
    (
        {"substances": K, "medications": ["paroxetine", "Ultram"]},
        {SEROTONIN: ("major", {SEROTONERGIC}), SEIZURE: ("moderate", {TRAMADOL_SSRI})},
        [],
    ),
    (
        {"substances": M, "medications": ["Wellbutrin XL 150 mg", "tramadol"]},
        {SEIZURE: ("moderate", {SEIZURE_PAIR}), LEVELS: ("moderate", {CYP2D6})},
        [SEROTONIN],
    ),
    (
        {"substances": K, "medications": ["sertraline", "citalopram"]},
        {
            SEROTONIN: ("major", {SEROTONERGIC}),
            "problem:heart-rhythm": ("moderate", {"interaction:kratom:qt-prolonging-drugs"}),
        },
        [SEIZURE],
    ),
    (
        {"substances": K, "medications": ["venlafaxine", "amitriptyline 25 mg"]},
        {SEROTONIN: ("major", {SEROTONERGIC})},
        [],
    ),
    (
        {"substances": M, "medications": ["trazodone 50 mg", "mirtazapine 15 mg"]},
        {SEROTONIN: ("major", {SEROTONERGIC})},
        [],
    ),
    ({"substances": M, "medications": ["sertraline"]}, {}, [SEROTONIN]),
    (
        {"substances": K, "medications": ["oxycodone", "gabapentin 300 mg"]},
        {CNS: ("major", {"combination:opioid-agonists:cns-depressants"})},
        [],
    ),
    (
        {"substances": K, "medications": ["hydrocodone", "zolpidem"]},
        {CNS: ("major", {"combination:opioid-agonists:z-drugs", "interaction:kratom:z-drugs"})},
        [],
    ),
    (
        {"substances": K, "medications": ["oxycodone", "morphine"]},
        {CNS: ("major", {"interaction:kratom:opioid-agonists"})},
        [],
    ),
    (
        {"substances": M, "medications": ["Luvox"]},
        {LEVELS: ("major", {"interaction:melatonin:fluvoxamine"})},
        [],
    ),
    (
        {"substances": M, "medications": ["Coumadin"]},
        {"problem:bleeding": ("moderate", {"interaction:melatonin:anticoagulants"})},
        [],
    ),
    (
        {"substances": M, "medications": ["nifedipine"]},
        # Issue 17: the trial was of nifedipine, which now has its own row.
        {"problem:blood-pressure": ("moderate", {"interaction:melatonin:nifedipine"})},
        [],
    ),
    (
        {"substances": M, "medications": ["metformin 500 mg"], "factors": ["diabetes"]},
        {
            # Issue 17: factor and interaction graded alike (minor) on the same study.
            "problem:blood-glucose": (
                "minor",
                {"variability:diabetes:melatonin", "interaction:melatonin:diabetes-medicines"},
            )
        },
        [],
    ),
    (
        {"substances": KM, "factors": ["pregnant", "breastfeeding"]},
        {
            "problem:pregnancy-lactation": (
                "major",
                {"variability:pregnant:kratom", "variability:breastfeeding:melatonin"},
            )
        },
        [],
    ),
    (
        {"substances": M, "age_years": 70},
        {"problem:age": ("moderate", {"variability:age_65_plus:melatonin"})},
        [],
    ),
    (
        {"substances": K, "age_years": 16},
        {"problem:age": ("major", {"variability:under_18:kratom"})},
        [],
    ),
    (
        {"substances": K, "medications": ["methadone 60 mg"], "factors": ["long_qt"]},
        {
            "problem:heart-rhythm": (
                "major",
                {"variability:long_qt:kratom", "interaction:kratom:qt-prolonging-drugs"},
            ),
            CNS: ("major", {"interaction:kratom:opioid-agonists"}),
        },
        [],
    ),
    (
        {
            "substances": K,
            "medications": ["tramadol", "sertraline"],
            "factors": ["seizure_history"],
        },
        {SEIZURE: ("major", {"variability:seizure_history:kratom", TRAMADOL_SSRI})},
        [],
    ),
    (
        {"substances": KM, "factors": ["hepatic_impairment"]},
        {
            LIVER: (
                "major",
                {
                    "variability:hepatic_impairment:kratom",
                    "variability:hepatic_impairment:melatonin",
                },
            )
        },
        [],
    ),
    (
        {"substances": K, "factors": ["substance_use_disorder_history", "withdrawal_signs"]},
        {
            "problem:dependence-withdrawal": (
                "major",
                {
                    "variability:substance_use_disorder_history:kratom",
                    "variability:withdrawal_signs:kratom",
                },
            )
        },
        [],
    ),
    (
        {
            "substances": KM,
            "products": [
                {"substance": "kratom", "label_lot": "A-1"},
                {"substance": "melatonin", "label_lot": "B-2"},
            ],
        },
        {PRODUCT: ("major", {"lab:A-1:no-coa", "lab:B-2:no-coa"})},
        [],
    ),
    (
        {"substances": K, "products": [{"substance": "kratom", "form": "concentrated_7oh"}]},
        {PRODUCT: ("contraindicated", {"lab:product-1:concentrated-7oh"})},
        [],
    ),
    (
        {"substances": K, "medications": ["zzyzx 10 mg"]},
        {"problem:unchecked-medicines": ("moderate", {"medication:unmatched:zzyzx-10-mg"})},
        [],
    ),
    ({"substances": KM}, {CNS: ("moderate", {"combination:kratom:melatonin"})}, []),
    (
        {"substances": K, "jurisdiction": "US-AL"},
        {"problem:legal-status": ("contraindicated", {"legal:banned:US-AL:kratom"})},
        [],
    ),
    (
        {"substances": K, "medications": ["clarithromycin 500 mg"]},
        {LEVELS: ("moderate", {"interaction:kratom:strong-cyp3a-inhibitors"})},
        [],
    ),
    (
        {"substances": K, "medications": ["Adderall XR 20 mg"]},
        {"problem:heart-rhythm": ("moderate", {"interaction:kratom:stimulants"})},
        [],
    ),
    (
        {"substances": M, "medications": ["tacrolimus"], "factors": ["autoimmune_disease"]},
        {
            "problem:immune-function": (
                "moderate",
                {"variability:autoimmune_disease:melatonin"},
            )
        },
        [],
    ),
]


def run(intake):
    return screening.screen(
        screening.parse_intake({"on": TODAY.isoformat(), **intake}, today=TODAY)
    )


def test_at_least_30_intakes():
    assert len(CASES) >= 30


@pytest.mark.parametrize("intake,expected,absent", CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_intake_problems(intake, expected, absent):
    flags = {f.code: f for f in run(intake).flags}
    for code, (severity, contributors) in expected.items():
        assert code in flags, (code, sorted(flags))
        assert flags[code].severity == severity, (code, flags[code].severity)
        assert contributors <= {c.code for c in flags[code].contributors}, code
    for code in absent:
        assert code not in flags
    for flag in flags.values():
        # One flag per problem; its severity is its most serious contributor's.
        assert flag.contributors and not flag.title.endswith("?"), flag.title
        order = ["contraindicated", "major", "moderate", "minor", "info"]
        assert flag.severity == min((c.severity for c in flag.contributors), key=order.index)


def test_the_patient_gives_at_most_six_acknowledgements():
    flags = run(PATIENT).flags
    serious = [f for f in flags if f.needs_acknowledgement]
    assert len(serious) <= 6 and len({f.code for f in serious}) == len(serious)
    by_code = {f.code: f for f in flags}
    cns = by_code[CNS]
    assert cns.severity == "major"
    assert "Tramadol" in cns.title and "Alprazolam" in cns.title
    assert cns.title.endswith(": added CNS and respiratory depression")
    boxed = next(c for c in cns.contributors if c.code == OPIOID_BENZO)
    assert boxed.kind == "combination" and "FDA boxed warning" in boxed.title
    assert {"Tramadol", "Sertraline"} <= set(by_code[SEROTONIN].title.replace("(", " ").split())
    # Each contributor keeps its own advice and sources; the problem has them all.
    for contributor in cns.contributors:
        assert contributor.advice in cns.advice
        assert set(contributor.sources) <= set(cns.sources)
    assert not any(f.title.rstrip().endswith("?") for f in flags)


def test_the_patient_through_the_checklist_asks_for_one_acknowledgement_per_problem(db):
    """The issue's walk: the default checklist answered as the patient would, with the COA
    questions and the opioid and sedative questions answered beside the medicine list."""
    loaders.load_template(files.read_json(files.CONTENT_DIR / "default_checklist.json"))
    team = make_team()
    user = make_user(teams=[team])
    response = make_response(make_case(team, user, birth_year=1974), user)
    fill(response, user, PATIENT_ANSWERS)
    flags = load_state(response).flags
    serious = [f for f in flags if f.needs_acknowledgement]
    codes = [f.code for f in flags]
    assert len(serious) <= 6, [f.code for f in serious]
    assert len(codes) == len(set(codes))
    assert codes.count(PRODUCT) == 1
    product = next(f for f in flags if f.code == PRODUCT)
    # The COA question and the lot: one problem (the issue counted four flags). The two
    # COA-content questions are not asked without a certificate (issue 18), so their
    # "unknown" answers in the fill are dropped and add nothing.
    contributors = {c.code for c in product.contributors}
    assert {"item:coa_available", "lab:OV-2291:no-coa"} <= contributors
    assert not contributors & {"item:kratom_7oh_share", "item:kratom_adulterants_absent"}
    cns = next(f for f in flags if f.code == CNS)
    # The opioid question and the medicine list are one problem.
    assert {"item:opioid_use", "item:sedative_use", OPIOID_BENZO} <= {
        c.code for c in cns.contributors
    }
    assert not any(f.title.rstrip().endswith("?") for f in flags)
    assert not any(c.title.rstrip().endswith("?") for f in flags for c in f.contributors)


PATIENT_ANSWERS = {
    "medication_interactions": {
        "substances_in_use": ["kratom", "considering_melatonin"],
        "current_medications": [
            {"name": "sertraline", "dose": "100 mg", "frequency": "daily"},
            {"name": "tramadol", "dose": "50 mg", "frequency": "as needed"},
            {"name": "alprazolam", "dose": "0.5 mg", "frequency": "at night"},
        ],
        "opioid_use": "yes",
        "sedative_use": "yes",
        "alcohol_use": "no",
        "stimulant_use": "no",
        "kratom_interacting_medicines": "yes",
        "melatonin_interacting_medicines": "no",
        "kratom_serotonergic_medicines": "yes",
        "prescriber_consulted": "no",
        "kratom_melatonin_combined": "undecided",
        "combination_expected_benefit": "no",
    },
    "individual_variability": {
        "pregnancy_status": "no",
        "breastfeeding": "no",
        "age_band": "18_64",
        "liver_disease_or_signs": "yes",
        "kidney_impairment": "no",
        "seizure_history": "no",
        "psychiatric_condition": "yes",
        "psychosis_or_suicidality": "no",
        "sud_history": "no",
        "kratom_for_withdrawal": "no",
        "kratom_dependence_signs": "no",
        "sensitivity_history": "no",
        "kratom_adverse_effects": "no",
        "long_qt_or_arrhythmia": "no",
        "autoimmune_or_immunosuppressed": "no",
        "diabetes": "no",
        "sleep_problem_reason": "no",
    },
    "legal_verification": {
        "jurisdiction": "US-TX",
        "local_restrictions": "no",
        "kratom_legal_check_source": "Texas Health and Safety Code ch. 444",
        "kratom_legal_check_date": "2026-11-30",
        "kratom_legal_status_found": "legal_regulated",
        "kratom_minimum_age_met": "yes",
        "melatonin_prescription_only": "no",
        "concentrated_7oh_product": "no",
    },
    "supplier_lab_testing": {
        "product_in_use": [{"product": "Kratom powder", "supplier": "online", "lot": "OV-2291"}],
        "supplier_reputation": "unknown",
        "coa_available": "no",
        "coa_lot_matches": "unknown",
        "coa_lab_accredited": "unknown",
        "coa_within_12_months": "unknown",
        "coa_contaminants_pass": "unknown",
        "kratom_7oh_share": "unknown",
        "kratom_adulterants_absent": "unknown",
    },
    "plan_and_monitoring": {
        "advice_given": ["consult_prescriber", "avoid_sedative_mix", "tested_products_only"],
        "use_after_advice": "will_use_despite_advice",
        "start_low_plan": "no",
        "monitoring_plan": ["liver_signs", "sedation_breathing"],
        "warning_signs_explained": "yes",
        "who_to_call": "Clinic nurse line",
        "treatment_referral": "not_applicable",
        "follow_up_date": "2026-12-14",
    },
}


def test_screen_command_prints_problems_with_contributors(tmp_path, capsys):
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"on": TODAY.isoformat(), **PATIENT}))
    call_command("screen", str(path))
    printed = json.loads(capsys.readouterr().out)
    flags = {f["code"]: f for f in printed["flags"]}
    assert set(flags[CNS]) == {
        "code",
        "category",
        "severity",
        "title",
        "advice",
        "sources",
        "contributors",
    }
    contributor = next(c for c in flags[CNS]["contributors"] if c["code"] == OPIOID_BENZO)
    assert contributor["kind"] == "combination"
    assert "Tramadol" in contributor["subject"] and "Alprazolam" in contributor["subject"]
    assert flags[CNS]["category"] == "interaction"


def test_fingerprint_changes_only_with_contributors_or_severity():
    first = next(f for f in run(PATIENT).flags if f.code == CNS)
    same = next(f for f in run({**PATIENT, "age_years": 53, "factors": []}).flags if f.code == CNS)
    assert screening.fingerprint(first) == screening.fingerprint(same)
    fewer = next(
        f for f in run({**PATIENT, "medications": ["tramadol 50 mg prn"]}).flags if f.code == CNS
    )
    assert screening.fingerprint(first) != screening.fingerprint(fewer)


# ------------------------------------------------------------- the catalogue is data


def test_every_rule_names_a_problem_from_the_catalogue():
    keys = set(Problem.objects.values_list("key", flat=True))
    for model in (InteractionRule, VariabilityRule, CombinationRule):
        assert not model.objects.filter(problem__isnull=True).exists(), model
    data = files.read_json(files.CONTENT_DIR / "default_checklist.json")
    for section in data["sections"]:
        for item in section["items"]:
            caution = item.get("caution")
            if caution:
                assert caution["problem"] in keys, item["key"]
                assert not caution["title"].rstrip().endswith("?"), item["key"]
    assert not any(
        t.rstrip().endswith("?") for t in Problem.objects.values_list("title", flat=True)
    )


def test_combination_rules_record_their_source_and_the_day_it_was_checked():
    rules = list(CombinationRule.objects.prefetch_related("sources"))
    assert {r.code for r in rules} >= {OPIOID_BENZO, SEROTONERGIC, CYP2D6, SEIZURE_PAIR}
    for rule in rules:
        assert rule.source_says.strip() and rule.sources.exists(), rule.code
        assert rule.reviewed_on == datetime.date(2026, 11, 30), rule.code
    assert CombinationRule.objects.get(code=OPIOID_BENZO).severity == "major"


def test_an_edited_problem_is_what_the_next_screening_says():
    Problem.objects.filter(key="serotonin-toxicity").update(title="risk of serotonin syndrome")
    flag = next(f for f in run(PATIENT).flags if f.code == SEROTONIN)
    assert flag.title.endswith(": risk of serotonin syndrome")


def test_loading_the_catalogue_again_changes_nothing():
    assert loaders.load_knowledge() == 0


# ------------------------------------------------------ statements, never questions


def test_import_refuses_a_caution_title_that_is_a_question():
    data = files.read_json(files.CONTENT_DIR / "default_checklist.json")
    item = next(i for s in data["sections"] for i in s["items"] if i["key"] == "coa_available")
    item["caution"]["title"] = "Is there a certificate of analysis?"
    sources = {s["key"] for s in files.read_json(files.CONTENT_DIR / "sources.json")}
    with pytest.raises(files.ContentError, match="ends with '\\?'"):
        files.validate_template_data(data, sources)


def test_publishing_refuses_a_caution_without_a_statement_title():
    version = make_version(publish=False)
    item = Item.objects.get(version=version, key="pregnant")
    untitled = {k: v for k, v in item.caution.items() if k != "title"}
    Item.objects.filter(pk=item.pk).update(caution=untitled)
    problems = validate_version(version)
    assert any("its caution has no title" in p for p in problems)
    Item.objects.filter(pk=item.pk).update(
        caution={**item.caution, "title": "Is the patient pregnant?"}
    )
    assert any("title ends with '?'" in p for p in validate_version(version))
    Item.objects.filter(pk=item.pk).update(caution={**item.caution, "title": "Pregnancy reported"})
    assert not any("caution" in p for p in validate_version(version))


def test_default_content_has_no_caution_problems():
    data = files.read_json(files.CONTENT_DIR / "default_checklist.json")
    assert content_problems(data["sections"]) == []


# ------------------------------------------------- one acknowledgement per problem


def _signed_then_amended(clinician, case, answers=None):
    from checklists.cases.signing import amend_response

    from .factories import COMPLETE_ANSWERS, sign

    response = make_response(case, clinician)
    fill(response, clinician, answers or COMPLETE_ANSWERS)
    sign(response, clinician, reason="prescriber_informed")
    response.refresh_from_db()
    draft = amend_response(response=response, user=clinician, reason="Correct the notes.")
    return response, draft


def _with(answers, section, **values):
    from .factories import COMPLETE_ANSWERS

    base = {key: dict(part) for key, part in COMPLETE_ANSWERS.items()}
    base[section].update(values)
    return base


def test_an_amendment_carries_the_acknowledgement_of_an_unchanged_problem(
    clinician_client, clinician, case, version
):
    from django.urls import reverse

    from checklists.forms import ack_field_prefix

    signed, draft = _signed_then_amended(clinician, case)
    assert signed.acknowledgements.filter(flag_code=CNS).exists()
    # One unrelated answer changes; the CNS problem is as it was.
    fill(draft, clinician, _with({}, "plan_and_monitoring", clinician_notes="Start very low."))
    page = clinician_client.get(reverse("review", args=[draft.pk]))
    form = page.context["form"]
    assert CNS in form.carried
    assert form[f"{ack_field_prefix(CNS)}_reason"].value() == "prescriber_informed"
    assert "Carried from revision 1" in page.content.decode()
    # Signing with the page as shown keeps the carried reason on the new revision.
    from .conftest import sign_data

    data = sign_data(clinician_client, draft)
    data[f"{ack_field_prefix(CNS)}_reason"] = form[f"{ack_field_prefix(CNS)}_reason"].value()
    assert clinician_client.post(reverse("sign", args=[draft.pk]), data).status_code == 302
    assert draft.acknowledgements.get(flag_code=CNS).reason == "prescriber_informed"


def test_a_changed_problem_is_asked_again(clinician, case, version):
    signed, draft = _signed_then_amended(clinician, case)
    more = [
        {"name": "oxycodone", "dose": "5 mg", "frequency": "BID"},
        {"name": "alprazolam", "dose": "0.5 mg", "frequency": "at night"},
    ]
    fill(draft, clinician, _with({}, "medication_interactions", current_medications=more))
    state = load_state(draft)
    cns = next(f for f in state.flags if f.code == CNS)
    assert OPIOID_BENZO in {c.code for c in cns.contributors}
    assert CNS not in state.carried_acknowledgements


def test_a_signed_checklist_keeps_the_problems_it_was_signed_with(clinician, case, version):
    from .factories import COMPLETE_ANSWERS, sign

    response = make_response(case, clinician)
    fill(response, clinician, COMPLETE_ANSWERS)
    sign(response, clinician)
    response.refresh_from_db()
    before = [f.as_dict() for f in load_state(response).flags]
    Problem.objects.filter(key="cns-depression").update(title="renamed problem")
    CombinationRule.objects.all().delete()
    InteractionRule.objects.filter(problem__key="cns-depression").update(severity="minor")
    assert [f.as_dict() for f in load_state(response).flags] == before
    assert any(f["code"] == CNS and f["contributors"] for f in response.flags_snapshot)


# ------------------------------------------------------------------ reconciliation


@pytest.fixture
def patient_draft(db):
    """The default checklist, answered as the issue's patient, by a clinician who can sign."""
    loaders.load_template(files.read_json(files.CONTENT_DIR / "default_checklist.json"))
    team = make_team()
    user = make_user(teams=[team])
    response = make_response(make_case(team, user, birth_year=1974), user)
    return response, user


def _answers(**medication_answers):
    answers = {key: dict(part) for key, part in PATIENT_ANSWERS.items()}
    answers["medication_interactions"].update(medication_answers)
    for key in [k for k, v in medication_answers.items() if v is None]:
        del answers["medication_interactions"][key]
    return answers


def test_no_beside_a_listed_opioid_is_a_contradiction_that_blocks_signing(patient_draft):
    from checklists.cases.signing import SignRefused, record_signature

    response, user = patient_draft
    fill(response, user, _answers(opioid_use="no"))
    state = load_state(response)
    [contradiction] = state.contradictions
    assert contradiction.item_key == "opioid_use" and contradiction.medicines == ("tramadol",)
    assert not state.can_sign
    acks = {f.code: ("advised_against", "") for f in state.flags if f.needs_acknowledgement}
    with pytest.raises(SignRefused, match="is answered No, but the medicine list has tramadol"):
        record_signature(
            response=response,
            user=user,
            attestation="ok",
            lock_version=response.lock_version,
            acknowledgements=acks,
        )
    response.refresh_from_db()
    assert response.is_draft
    # Resolved (Yes), it signs.
    fill(response, user, _answers(opioid_use="yes"))
    state = load_state(response)
    assert state.contradictions == [] and state.can_sign


def test_the_review_and_the_section_show_the_contradiction(patient_draft, client):
    from django.urls import reverse

    from .conftest import login

    response, user = patient_draft
    fill(response, user, _answers(opioid_use="no"))
    login(client, user)
    review = client.get(reverse("review", args=[response.pk])).content.decode()
    assert "Contradiction:" in review and "Signing opens once every answer agrees" in review
    section = client.get(reverse("section", args=[response.pk, "medication_interactions"]))
    assert "Contradiction:" in section.content.decode()


def test_the_medicine_list_pre_answers_the_questions_it_answers(patient_draft, client):
    from django.urls import reverse

    from .conftest import login

    response, user = patient_draft
    fill(response, user, _answers(opioid_use=None, sedative_use=None))
    login(client, user)
    page = client.get(reverse("section", args=[response.pk, "medication_interactions"]))
    form = page.context["form"]
    assert form["opioid_use"].value() == "yes" and form["sedative_use"].value() == "yes"
    body = page.content.decode()
    assert "Yes, from the medicine list: tramadol" in body
    assert "Yes, from the medicine list: alprazolam" in body
    # Nothing is stored until the clinician saves: the pre-answer is editable.
    assert not response.answers.filter(item__key="opioid_use").exists()


def _with_medicines(substances, *medicines):
    answers = _answers(substances_in_use=substances)
    rows = answers["medication_interactions"]["current_medications"]
    answers["medication_interactions"]["current_medications"] = [
        *rows,
        *({"name": name, "dose": "", "frequency": ""} for name in medicines),
    ]
    return answers


def test_a_kratom_product_in_the_list_with_kratom_not_ticked_blocks_signing(patient_draft):
    """Issue 17: "7-OH tablets" in the list is kratom use; an answer that leaves kratom out
    would hide the questions about its dependence, lot and lab results."""
    response, user = patient_draft
    fill(response, user, _with_medicines(["melatonin"], "7-OH tablets"))
    state = load_state(response)
    [contradiction] = state.contradictions
    assert contradiction.item_key == "substances_in_use" and contradiction.option == "kratom"
    assert "does not include Kratom (any form), but the medicine list has 7-OH tablets" in (
        contradiction.message
    )
    assert not state.can_sign
    # "Considering kratom" is not use either; ticking kratom resolves it.
    fill(response, user, _with_medicines(["melatonin", "considering_kratom"], "7-OH tablets"))
    assert load_state(response).contradictions
    fill(response, user, _with_medicines(["kratom", "melatonin"], "7-OH tablets"))
    assert load_state(response).contradictions == []


def test_a_melatonin_product_pre_ticks_melatonin_when_the_question_is_unanswered(
    patient_draft, client
):
    from django.urls import reverse

    from .conftest import login

    response, user = patient_draft
    fill(response, user, _with_medicines(None, "ZzzQuil PURE Zzzs", "OPMS capsules"))
    login(client, user)
    page = client.get(reverse("section", args=[response.pk, "medication_interactions"]))
    assert sorted(page.context["form"]["substances_in_use"].value()) == ["kratom", "melatonin"]
    body = page.content.decode()
    assert "Melatonin, from the medicine list: ZzzQuil PURE Zzzs" in body
    assert "Kratom (any form), from the medicine list: OPMS capsules" in body


def test_no_product_in_the_list_asks_nothing_of_the_substances_question(patient_draft):
    response, user = patient_draft
    fill(response, user, _with_medicines(["melatonin"]))
    state = load_state(response)
    assert not [r for r in state.reconciliations if r.item_key == "substances_in_use"]


# ------------------------------------- the catalogue is edited like the other knowledge


@pytest.mark.parametrize("model,key", [(Problem, "key"), (CombinationRule, "code")])
def test_problems_and_combinations_change_only_through_a_second_editor(
    editor_client, reviewer_client, model, key
):
    from checklists import refdata
    from checklists.models import KnowledgeChange

    from .test_knowledge_review import decide, propose_edit

    row = model.objects.get(**{key: "serotonin-toxicity" if model is Problem else SEROTONERGIC})
    token = refdata.current_token()
    field, value = ("title", "serotonin syndrome") if model is Problem else ("severity", "moderate")
    assert propose_edit(editor_client, row, **{field: value}).status_code == 302
    row.refresh_from_db()
    assert getattr(row, field) != value and refdata.current_token() == token
    decide(reviewer_client, KnowledgeChange.objects.get(), "approve")
    row.refresh_from_db()
    assert getattr(row, field) == value
    flag = next(f for f in run(PATIENT).flags if f.code == SEROTONIN)
    assert flag.title.endswith(value) if model is Problem else flag.severity == value


def test_a_sign_refused_for_a_contradiction_is_audited(patient_draft):
    from checklists.cases.signing import SignRefused, sign_response
    from checklists.models import AuditEvent

    from .factories import PASSWORD

    response, user = patient_draft
    fill(response, user, _answers(sedative_use="no"))
    with pytest.raises(SignRefused, match="alprazolam"):
        sign_response(
            response=response,
            user=user,
            password=PASSWORD,
            attestation="ok",
            lock_version=response.lock_version,
        )
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_REFUSED).latest("pk")
    assert event.detail == {"reason": "answer_contradicts_medicines"}


@pytest.mark.parametrize("model,key", [(Problem, "key"), (InteractionRule, "code")])
def test_a_question_is_refused_as_a_knowledge_title(model, key):
    from django.core.exceptions import ValidationError

    row = model.objects.order_by("pk").first()
    row.title = "Is this a problem?"
    with pytest.raises(ValidationError, match="never a question"):
        row.full_clean()


def test_a_contributor_is_named_once_with_what_it_matched(patient_draft, client):
    """A checklist answer's caution is its own subject: the problem lists it by its title
    alone, where a rule hit keeps what it matched beside its title."""
    from django.urls import reverse

    from checklists.screening.flags import Contributor

    from .conftest import login

    answer = Contributor(
        "item:x", "answer", "Opioid use reported", "major", "Opioid use reported", ""
    )
    rule = Contributor(
        "interaction:x", "medicine", "Trazodone + kratom", "moderate", "Sedation", ""
    )
    assert (answer.heading, rule.heading) == (
        "Opioid use reported",
        "Sedation (Trazodone + kratom)",
    )
    response, user = patient_draft
    fill(response, user, _answers())
    login(client, user)
    page = client.get(reverse("review", args=[response.pk])).content.decode()
    state = load_state(response)
    parts = [p for f in state.flags for p in f.contributors if p.kind == "answer"]
    assert parts, "the patient's answers raise a checklist caution inside a problem"
    assert f"{parts[0].title} ({parts[0].subject})" not in page
    assert f"<strong>{parts[0].title}</strong>" in page
