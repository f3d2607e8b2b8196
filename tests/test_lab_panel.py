"""Issue 17, lab: 7-OH in any unit against the place's law, metals as a daily intake, the
kratom adulterant panel, melatonin purity and content per gummy, graded as the checklist's
own items grade the same evidence. Every case goes through `screening.screen`."""

import datetime
import json

import pytest
from django.urls import reverse

from checklists import screening
from checklists.models import CertificateOfAnalysis, LegalStatus, Lot, Product

from .test_legal_lab import CLEAN_RESULTS, kratom_product

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 22)
ADULTERANTS = [
    "o_desmethyltramadol",
    "hydrocodone",
    "fentanyl",
    "benzodiazepines",
    "mitragynine_pseudoindoxyl",
    "mgm_15",
    "mgm_16",
]


def contributors(intake: dict) -> dict:
    """Every lab hit of the screen, by code: (severity, title, problem code)."""
    result = screening.screen(screening.parse_intake(intake, today=DAY))
    return {
        c.code: (c.severity, c.title, flag.code)
        for flag in result.flags
        for c in flag.contributors
        if c.code.startswith("lab:")
    }


def lab(product: dict, place: str | None = None) -> dict:
    intake = {"substances": ["kratom", "melatonin"], "products": [product]}
    if place:
        intake["jurisdiction"] = place
    return contributors(intake)


def seven_oh(results: dict, place: str | None = None, **label) -> dict:
    """A clean leaf lot whose 7-OH is given only as `results` (any unit)."""
    clean = {k: v for k, v in CLEAN_RESULTS.items() if k != "seven_oh_pct_of_alkaloids"}
    product = kratom_product(**label)
    product["coa"]["results"] = {**clean, **results}
    return lab(product, place)


# ------------------------------------------------------------------ 7-OH, by place and unit


def test_the_legal_table_carries_each_verified_7oh_limit_as_figures():
    rows = LegalStatus.objects.exclude(seven_oh_limit_status="")
    limits = {
        (r.jurisdiction.code, r.substance): (
            r.seven_oh_max_pct_of_alkaloids,
            r.seven_oh_max_mg_per_g,
            r.seven_oh_max_mg_per_serving,
            r.seven_oh_limit_status,
        )
        for r in rows
    }
    assert limits[("US-TX", "kratom")] == (2, None, None, "in_force")
    assert limits[("US-OK", "kratom")] == (1, None, None, "in_force")
    assert limits[("US-MS", "kratom")] == (1, None, None, "in_force")
    assert limits[("US-GA", "kratom")] == (None, 0.5, 1, "in_force")
    assert limits[("US", "seven_oh")] == (None, 0.5, 1, "proposed")
    # Florida's threshold was not read in the rule's own text: left empty.
    assert not any(code == "US-FL" for code, _ in limits)
    assert all(r.seven_oh_limit_law for r in rows)


SEVEN_OH_CASES = [
    # Oklahoma caps 7-OH at 1 % of alkaloids: 1.5 % is over it (the general 2 % is not).
    (
        {"seven_oh_pct_of_alkaloids": 1.5},
        "US-OK",
        "lab:K-100:seven-oh:US-OK:pct",
        "contraindicated",
    ),
    ({"seven_oh_pct_of_alkaloids": 0.9}, "US-OK", None, None),
    # Texas caps it at 2 %.
    (
        {"seven_oh_pct_of_alkaloids": 2.5},
        "US-TX",
        "lab:K-100:seven-oh:US-TX:pct",
        "contraindicated",
    ),
    ({"seven_oh_pct_of_alkaloids": 1.9}, "US-TX", None, None),
    # Georgia: at most 0.5 mg per gram (500 ppm) and 1 mg per serving.
    ({"seven_oh_ppm": 800}, "US-GA", "lab:K-100:seven-oh:US-GA:mg_per_g", "contraindicated"),
    ({"seven_oh_ppm": 400}, "US-GA", None, None),
    ({"seven_oh_mg_per_g": 0.6}, "US-GA", "lab:K-100:seven-oh:US-GA:mg_per_g", "contraindicated"),
    ({"seven_oh_mg_per_g": 0.5}, "US-GA", None, None),
    (
        {"seven_oh_mg_per_serving": 1.5},
        "US-GA",
        "lab:K-100:seven-oh:US-GA:mg_per_serving",
        "contraindicated",
    ),
    ({"seven_oh_mg_per_serving": 0.9}, "US-GA", None, None),
]


@pytest.mark.parametrize("results,place,code,severity", SEVEN_OH_CASES)
def test_7oh_against_the_places_limit_in_each_unit(results, place, code, severity):
    got = seven_oh(results, place)
    found = {
        c: v for c, v in got.items() if ":seven-oh:" in c or c.endswith("seven_oh_pct_of_alkaloids")
    }
    if code is None:
        assert not found, found
    else:
        assert got[code][0] == severity
        assert set(found) == {code}


def test_the_flag_names_the_place_its_law_and_the_figure_compared():
    severity, title, problem = seven_oh({"seven_oh_ppm": 800}, "US-GA")[
        "lab:K-100:seven-oh:US-GA:mg_per_g"
    ]
    assert "Georgia" in title and "O.C.G.A. 16-13-122(b)" in title
    assert "0.8 mg/g = 800 ppm = 0.08 % w/w (from 800 ppm as reported)" in title
    assert "limit 0.5 mg/g = 500 ppm = 0.05 % w/w" in title
    assert problem == "problem:product-quality"


def test_a_per_gram_result_and_the_serving_size_give_the_per_serving_figure():
    # 0.4 mg/g is within Georgia's 0.5 mg/g, but a 5 g serving holds 2 mg, over 1 mg.
    got = seven_oh({"seven_oh_mg_per_g": 0.4}, "US-GA", serving_size_g=5)
    _, title, _ = got["lab:K-100:seven-oh:US-GA:mg_per_serving"]
    assert "2 mg per serving (0.4 mg/g × 5 g serving)" in title
    assert "lab:K-100:seven-oh:US-GA:mg_per_g" not in got


def test_a_share_of_alkaloids_cannot_be_checked_against_a_per_gram_law():
    got = seven_oh({"seven_oh_pct_of_alkaloids": 1.0}, "US-GA")
    assert got["lab:K-100:seven-oh:US-GA:units"][0] == "moderate"


def test_where_the_place_has_no_limit_the_general_2_percent_check_stays():
    over = seven_oh({"seven_oh_pct_of_alkaloids": 2.5}, "US-CO")
    assert over["lab:K-100:seven_oh_pct_of_alkaloids"][0] == "contraindicated"
    assert not seven_oh({"seven_oh_pct_of_alkaloids": 1.5}, "US-CO")
    # Oklahoma's own 1 % replaces it: one flag, naming Oklahoma, not two.
    got = seven_oh({"seven_oh_pct_of_alkaloids": 2.5}, "US-OK")
    assert "lab:K-100:seven_oh_pct_of_alkaloids" not in got
    assert "Oklahoma" in got["lab:K-100:seven-oh:US-OK:pct"][1]


def test_the_proposed_federal_threshold_is_major_and_says_it_is_not_in_force():
    severity, title, _ = seven_oh({"seven_oh_ppm": 900}, "US-CO")["lab:K-100:seven-oh:US:mg_per_g"]
    assert severity == "major"
    assert "not in force" in title and "proposed" in title
    # Before DEA's notice of 1 Jul 2026 there was no threshold to compare with.
    product = kratom_product()
    product["coa"]["results"] = {
        **{k: v for k, v in CLEAN_RESULTS.items() if k != "seven_oh_pct_of_alkaloids"},
        "seven_oh_ppm": 900,
    }
    before = contributors(
        {
            "on": "2026-06-30",
            "substances": ["kratom"],
            "jurisdiction": "US-CO",
            "products": [product],
        }
    )
    assert not any(":seven-oh:US:" in code for code in before)
    assert before["lab:K-100:seven-oh:units"][0] == "moderate"


def test_a_ppm_result_with_no_limit_to_meet_asks_for_the_share_of_alkaloids():
    got = seven_oh({"seven_oh_ppm": 100})  # no place given
    assert got["lab:K-100:seven-oh:units"][0] == "moderate"


def test_7oh_below_quantitation_is_within_every_limit_and_a_word_is_not_a_figure():
    assert not seven_oh({"seven_oh_ppm": "<LOQ"}, "US-GA")
    word = seven_oh({"seven_oh_pct_of_alkaloids": "pass"})
    assert word["lab:K-100:seven-oh:not-a-number"][0] == "moderate"


def test_no_7oh_in_any_unit_is_a_major_missing_result():
    assert seven_oh({})["lab:K-100:missing:seven_oh_pct_of_alkaloids"][0] == "major"
    assert "lab:K-100:missing:seven_oh_pct_of_alkaloids" not in seven_oh({"seven_oh_ppm": 50})


# ------------------------------------------------------------------ metals as a daily intake


def test_lead_under_the_concentration_limit_can_exceed_usp_2232_by_daily_intake():
    # 1.0 ppm is under Utah's 1.2 ppm; 1.0 µg/g × 8 g a day = 8 µg, over USP's 5 µg a day.
    got = lab(kratom_product(daily_amount_g=8, results={"lead_ppm": 1.0}))
    severity, title, _ = got["lab:K-100:lead_ppm:daily"]
    assert severity == "contraindicated"
    assert "1 ppm × 8 g = 8 µg/day" in title and "5 µg/day" in title
    assert "lab:K-100:lead_ppm" not in got
    # At 4 g a day the same lot gives 4 µg: within the PDE.
    assert "lab:K-100:lead_ppm:daily" not in lab(
        kratom_product(daily_amount_g=4, results={"lead_ppm": 1.0})
    )


@pytest.mark.parametrize(
    "analyte,ppm,grams",
    [("arsenic_ppm", 1.9, 10), ("cadmium_ppm", 0.8, 7), ("mercury_ppm", 0.35, 50)],
)
def test_each_metal_has_its_permitted_daily_exposure(analyte, ppm, grams):
    got = lab(kratom_product(daily_amount_g=grams, results={analyte: ppm}))
    assert got[f"lab:K-100:{analyte}:daily"][0] == "contraindicated"
    assert f"lab:K-100:{analyte}" not in got  # under the concentration limit


def test_arsenic_is_counted_as_inorganic_and_says_so():
    product = kratom_product(daily_amount_g=10, results={"arsenic_ppm": 1.9})
    result = screening.screen(screening.parse_intake({"products": [product]}, today=DAY))
    (advice,) = [
        c.advice for f in result.flags for c in f.contributors if c.code.endswith(":daily")
    ]
    assert "as if all of it were inorganic" in advice


def test_without_a_daily_amount_only_concentrations_are_checked_and_the_flag_says_so():
    product = kratom_product(results={"lead_ppm": 1.0})
    del product["daily_amount_g"]
    got = lab(product)
    severity, title, _ = got["lab:K-100:daily-intake-unknown"]
    assert severity == "moderate" and "could not be computed" in title
    assert not any(code.endswith(":daily") for code in got)


def test_a_daily_amount_must_be_a_positive_number():
    for bad in (0, -2, "5 g", float("nan"), float("inf")):
        with pytest.raises(screening.IntakeError, match="daily_amount_g"):
            screening.parse_intake({"products": [kratom_product(daily_amount_g=bad)]}, today=DAY)


# ------------------------------------------------------------------ the adulterant panel


@pytest.mark.parametrize("analyte", ADULTERANTS)
def test_each_adulterant_detected_is_contraindicated_under_cns_depression(analyte):
    got = lab(kratom_product(results={analyte: "detected"}))
    severity, title, problem = got[f"lab:K-100:{analyte}"]
    assert severity == "contraindicated" and "detected" in title
    assert problem == "problem:cns-depression"


@pytest.mark.parametrize("value", ["absent", "not detected", "ND", "<LOQ", 0])
def test_an_absent_adulterant_raises_nothing(value):
    assert not lab(kratom_product(results={"fentanyl": value}))


def test_a_measured_amount_of_an_adulterant_is_a_detection():
    found = lab(kratom_product(results={"hydrocodone": 12.5}))
    assert found["lab:K-100:hydrocodone"][0] == "contraindicated"


@pytest.mark.parametrize("analyte", ADULTERANTS)
def test_each_adulterant_not_reported_makes_the_panel_partly_reported(analyte):
    product = kratom_product()
    del product["coa"]["results"][analyte]
    severity, title, _ = lab(product)["lab:K-100:panel-not-reported:kratom-adulterants"]
    assert severity == "major" and "partly reported" in title


def test_a_panel_left_out_is_one_major_flag_not_seven():
    product = kratom_product()
    for analyte in ADULTERANTS:
        del product["coa"]["results"][analyte]
    got = lab(product)
    assert got["lab:K-100:panel-not-reported:kratom-adulterants"][0] == "major"
    assert "not reported" in got["lab:K-100:panel-not-reported:kratom-adulterants"][1]
    assert not any(code.startswith("lab:K-100:missing:") for code in got)


# ------------------------------------------------------------------ melatonin


def melatonin(results: dict, **label) -> dict:
    product = {
        "substance": "melatonin",
        "form": "gummy",
        "label_lot": "M-1",
        "label_amount_mg": 5,
        "coa": {
            "lot": "M-1",
            "tested_on": "2026-06-01",
            "lab_accredited": True,
            "results": {"serotonin": "absent", "cbd": "absent", **results},
        },
        **label,
    }
    return lab(product)


def test_serotonin_detected_in_melatonin_is_moderate():
    got = melatonin({"melatonin_mg_measured": 5, "serotonin": "detected"})
    assert got["lab:M-1:serotonin"][0] == "moderate"


def test_cbd_detected_in_melatonin_is_moderate():
    assert melatonin({"melatonin_mg_measured": 5, "cbd": 10.6})["lab:M-1:cbd"][0] == "moderate"


def test_serotonin_and_cbd_not_reported_are_one_moderate_panel_flag():
    product_results = {"melatonin_mg_measured": 5}
    got = lab(
        {
            "substance": "melatonin",
            "form": "gummy",
            "label_lot": "M-1",
            "label_amount_mg": 5,
            "coa": {
                "lot": "M-1",
                "tested_on": "2026-06-01",
                "lab_accredited": True,
                "results": product_results,
            },
        }
    )
    assert got == {
        "lab:M-1:panel-not-reported:melatonin-purity": (
            "moderate",
            "Purity panel (serotonin, CBD): not reported: melatonin product 1 (lot M-1)",
            "problem:product-quality",
        )
    }


def test_content_per_gummy_is_checked_against_the_label_per_gummy():
    # 5 mg per dose of 2 gummies is 2.5 mg a gummy: 2.6 is within 10 %, 3.5 is not.
    assert not melatonin({"melatonin_mg_per_unit": 2.6}, units_per_dose=2)
    severity, title, _ = melatonin({"melatonin_mg_per_unit": 3.5}, units_per_dose=2)[
        "lab:M-1:melatonin_mg_per_unit"
    ]
    assert severity == "moderate"
    assert "+40 %" in title and "2.5 mg per gummy (the label's 5 mg per dose of 2)" in title


def test_without_units_per_dose_one_gummy_is_one_dose_and_the_flag_says_so():
    _, title, _ = melatonin({"melatonin_mg_per_unit": 2.5})["lab:M-1:melatonin_mg_per_unit"]
    assert "-50 %" in title and "no units per dose recorded" in title


def test_a_per_dose_result_is_still_checked_per_dose():
    per_dose = melatonin({"melatonin_mg_measured": 8})
    assert per_dose["lab:M-1:melatonin_mg_measured"][0] == "moderate"


def test_a_result_with_no_labelled_amount_says_it_could_not_be_checked():
    got = melatonin({"melatonin_mg_per_unit": 2.5}, label_amount_mg=None)
    assert got["lab:M-1:melatonin_mg_per_unit:no-label"][0] == "moderate"


# ------------------------------------------------------------------ grading consistency


def test_results_left_out_are_graded_as_the_checklist_items_grade_not_shown():
    """coa_contaminants_pass, kratom_7oh_share and kratom_adulterants_absent grade "not
    shown" major; melatonin_content_verified moderate. The lab's missing results agree."""
    with open("checklists/content/default_checklist.json", encoding="utf-8") as handle:
        sections = json.load(handle)["sections"]
    items = {
        item["key"]: item["caution"]["severity"]
        for section in sections
        for item in section["items"]
        if item.get("caution")
    }
    product = kratom_product()
    for analyte in ("lead_ppm", "salmonella", "mitragynine_pct", "seven_oh_pct_of_alkaloids"):
        del product["coa"]["results"][analyte]
    for analyte in ADULTERANTS:
        del product["coa"]["results"][analyte]
    got = lab(product)
    assert got["lab:K-100:missing:lead_ppm"][0] == items["coa_contaminants_pass"]
    assert got["lab:K-100:missing:salmonella"][0] == items["coa_contaminants_pass"]
    assert got["lab:K-100:missing:mitragynine_pct"][0] == items["kratom_7oh_share"]
    assert got["lab:K-100:missing:seven_oh_pct_of_alkaloids"][0] == items["kratom_7oh_share"]
    assert (
        got["lab:K-100:panel-not-reported:kratom-adulterants"][0]
        == items["kratom_adulterants_absent"]
    )
    purity = melatonin({"melatonin_mg_measured": 5, "serotonin": "", "cbd": ""})
    assert (
        purity["lab:M-1:panel-not-reported:melatonin-purity"][0]
        == items["melatonin_content_verified"]
    )


# ------------------------------------------------------------------ the certificate form


@pytest.fixture
def lot(clinician_client, team):
    clinician_client.post(
        reverse("lot_list"),
        {
            "team": team.pk,
            "supplier": "Leafy Co",
            "product": "Green Maeng Da",
            "substance": "kratom",
            "form": "leaf_powder",
            "serving_size_g": "5",
            "daily_amount_g": "8",
            "lot_number": "K-100",
        },
    )
    return Lot.objects.get(lot_number="K-100")


def test_the_lot_form_records_the_label_amounts(lot):
    product = Product.objects.get(pk=lot.product_id)
    assert (product.serving_size_g, product.daily_amount_g) == (5, 8)


@pytest.mark.parametrize(
    "field,value",
    [
        ("daily_amount_g", "0"),
        ("daily_amount_g", "-1"),
        ("units_per_dose", "1.5"),
        ("serving_size_g", "lots"),
    ],
)
def test_bad_label_amounts_are_refused_with_a_message(clinician_client, team, field, value):
    response = clinician_client.post(
        reverse("lot_list"),
        {
            "team": team.pk,
            "supplier": "Leafy Co",
            "product": "Other",
            "substance": "kratom",
            "form": "leaf_powder",
            "lot_number": "K-9",
            field: value,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Lot.objects.filter(lot_number="K-9").exists()


def test_the_certificate_form_offers_the_new_analytes(clinician_client, lot):
    page = clinician_client.get(reverse("lot_detail", args=[lot.pk])).content.decode()
    for analyte in ("seven_oh_ppm", "seven_oh_mg_per_g", "seven_oh_mg_per_serving", *ADULTERANTS):
        assert f'name="result_{analyte}"' in page


def post_certificate(client, lot, **results):
    return client.post(
        reverse("coa_new", args=[lot.pk]),
        {
            "lab_name": "Acme Labs",
            "accreditation_id": "17025-1",
            "tested_on": "2026-06-01",
            "coa_lot_number": "K-100",
            **{f"result_{k}": v for k, v in results.items()},
        },
    )


@pytest.mark.parametrize("value", ["abc", "-3", "1e999", "nan"])
def test_a_bad_number_on_the_certificate_is_refused_not_a_500(clinician_client, lot, value):
    response = post_certificate(clinician_client, lot, seven_oh_ppm=value)
    assert response.status_code == 400
    assert not CertificateOfAnalysis.objects.exists()


def test_a_certificate_in_ppm_is_checked_against_the_places_law(clinician_client, lot, case):
    saved = post_certificate(
        clinician_client, lot, seven_oh_ppm="800", fentanyl="detected", lead_ppm="1.0"
    )
    assert saved.status_code == 302
    coa = CertificateOfAnalysis.objects.get()
    assert coa.results["seven_oh_ppm"] == 800 and coa.results["fentanyl"] == "detected"
    from checklists.cases.readmodel import resolve_products

    products = resolve_products([{"lot_id": lot.pk}], lot.product.supplier.team_id)
    assert products[0]["daily_amount_g"] == 8 and products[0]["serving_size_g"] == 5
    intake = screening.Intake(
        on=DAY, substances=frozenset({"kratom"}), jurisdiction="US-GA", products=products
    )
    codes = {c.code for f in screening.screen(intake).flags for c in f.contributors}
    assert {
        "lab:K-100:seven-oh:US-GA:mg_per_g",
        "lab:K-100:seven-oh:US-GA:mg_per_serving",  # 0.8 mg/g × 5 g = 4 mg
        "lab:K-100:fentanyl",
        "lab:K-100:lead_ppm:daily",  # 1.0 ppm × 8 g = 8 µg
    } <= codes


# ------------------------------------------------------------------ loading the figures


@pytest.mark.parametrize(
    "row",
    [
        {"seven_oh_max_mg_per_g": 0.5},  # a figure without its status and law
        {"seven_oh_limit_status": "in_force", "seven_oh_limit_law": "Some Act"},  # no figure
        {
            "seven_oh_max_mg_per_g": "0.5",
            "seven_oh_limit_status": "in_force",
            "seven_oh_limit_law": "Some Act",
        },
        {
            "seven_oh_max_mg_per_g": 0.5,
            "seven_oh_limit_status": "maybe",
            "seven_oh_limit_law": "Some Act",
        },
    ],
)
def test_a_legal_rows_7oh_limit_must_name_its_status_and_law(row):
    from checklists.authoring.files import ContentError
    from checklists.authoring.lab_rows import seven_oh_limit

    with pytest.raises(ContentError, match="US-XX"):
        seven_oh_limit(row, "legal row US-XX")


def test_a_daily_exposure_needs_a_result_in_ppm():
    from checklists.authoring.files import ContentError
    from checklists.authoring.lab_rows import check_lab_limit

    with pytest.raises(ContentError, match="ppm"):
        check_lab_limit({"unit": "mg/g", "pde_ug_per_day": 5}, "lab limit 'lead'", set())
    with pytest.raises(ContentError, match="unknown problem"):
        check_lab_limit({"problem_on_fail": "nonsense"}, "lab limit 'x'", {"cns-depression"})
