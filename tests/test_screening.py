"""The screening engine against the starter knowledge: intakes in, flag codes out."""

import datetime
import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists import refdata, screening
from checklists.models import InteractionRule, VariabilityRule

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 22)

K, M, KM = ["kratom"], ["melatonin"], ["kratom", "melatonin"]
OPIOID = ("interaction:kratom:opioid-agonists", "major")
BENZO = ("interaction:kratom:benzodiazepines", "major")
FLUVOX = ("interaction:melatonin:fluvoxamine", "major")
COMBO = ("combination:kratom:melatonin", "moderate")
VKA = ("interaction:melatonin:vitamin-k-antagonists", "moderate")

# (intake, flags that must be raised (code, severity), codes that must not be raised)
CASES = [
    ({"substances": K, "medications": ["oxycodone"]}, [OPIOID], []),
    ({"substances": K, "medications": ["OxyContin 20mg BID"]}, [OPIOID], []),
    ({"substances": K, "medications": ["OXYCONTIN"]}, [OPIOID], []),
    ({"substances": K, "medications": ["Roxicodone 5 mg q6h prn"]}, [OPIOID], []),
    ({"substances": K, "medications": ["fentanyl patch 25mcg/h"]}, [OPIOID], []),
    ({"substances": K, "medications": ["Methadose 60 mg daily"]}, [OPIOID], []),
    ({"substances": K, "medications": ["tramadol 50mg"]}, [OPIOID], []),
    (
        {"substances": M, "medications": ["oxycodone"]},
        [("interaction:melatonin:opioid-agonists", "moderate")],
        [OPIOID[0]],
    ),
    (
        {"substances": K, "medications": ["Suboxone 8/2 mg"]},
        [("interaction:kratom:moud-buprenorphine", "moderate")],
        [OPIOID[0]],
    ),
    ({"substances": K, "medications": ["alprazolam 0.5 mg"]}, [BENZO], []),
    ({"substances": K, "medications": ["Xanax"]}, [BENZO], []),
    ({"substances": K, "medications": ["valium 5mg"]}, [BENZO], []),
    ({"substances": K, "medications": ["midazolam"]}, [BENZO], []),
    (
        {"substances": K, "medications": ["Ambien 10 mg at night"]},
        [("interaction:kratom:z-drugs", "major")],
        [],
    ),
    (
        {"substances": K, "medications": ["zopiclone"]},
        [("interaction:kratom:z-drugs", "major")],
        [],
    ),
    ({"substances": K, "medications": ["alcohol"]}, [("interaction:kratom:alcohol", "major")], []),
    (
        {"substances": K, "medications": ["Seroquel 100mg"]},
        [("interaction:kratom:quetiapine", "major")],
        [],
    ),
    (
        {"substances": K, "medications": ["diphenhydramine 25 mg"]},
        [("interaction:kratom:sedating-antihistamines", "moderate")],
        [],
    ),
    (
        {"substances": K, "medications": ["citalopram 20 mg"]},
        [("interaction:kratom:qt-prolonging-drugs", "moderate")],
        [],
    ),
    (
        {"substances": K, "medications": ["Adderall XR 20 mg"]},
        [("interaction:kratom:stimulants", "moderate")],
        [],
    ),
    (
        {"substances": K, "medications": ["metoprolol 50 mg"]},
        [("interaction:kratom:cyp2d6-substrates", "minor")],
        [],
    ),
    (
        {"substances": K, "medications": ["digoxin 125 mcg"]},
        [("interaction:kratom:pgp-substrates", "moderate")],
        [],
    ),
    (
        {"substances": K, "medications": ["clarithromycin 500 mg"]},
        [("interaction:kratom:strong-cyp3a-inhibitors", "moderate")],
        [],
    ),
    (
        {"substances": K, "medications": ["rifampicin"]},
        [("interaction:kratom:strong-cyp3a-inducers", "moderate")],
        [],
    ),
    (
        {"substances": M, "medications": ["Luvox 100 mg"]},
        [FLUVOX],
        ["interaction:melatonin:cyp1a2-inhibitors"],
    ),
    ({"substances": M, "medications": ["fluvoxamine"]}, [FLUVOX], []),
    (
        {"substances": M, "medications": ["ciprofloxacin 500mg bid"]},
        [("interaction:melatonin:cyp1a2-inhibitors", "moderate")],
        [],
    ),
    (
        {"substances": M, "medications": ["Yaz"]},
        [("interaction:melatonin:oestrogens", "moderate")],
        [],
    ),
    # Issue 17: the warfarin reports grade vitamin K antagonists moderate; the rest of the
    # anticoagulants, never studied, are minor.
    (
        {"substances": M, "medications": ["warfarin 5 mg"]},
        [VKA, ("interaction:melatonin:anticoagulants", "minor")],
        [],
    ),
    ({"substances": M, "medications": ["Coumadin"]}, [VKA], []),
    # Issue 17: the trial was of nifedipine; other antihypertensives are graded minor.
    (
        {"substances": M, "medications": ["nifedipine"]},
        [("interaction:melatonin:nifedipine", "moderate")],
        ["interaction:melatonin:antihypertensives"],
    ),
    (
        {"substances": M, "medications": ["metformin 500 mg"]},
        [("interaction:melatonin:diabetes-medicines", "minor")],
        [],
    ),
    (
        {"substances": M, "medications": ["tacrolimus"]},
        [("interaction:melatonin:immunosuppressants", "minor")],
        [],
    ),
    (
        {"substances": M, "medications": ["lamotrigine"]},
        [("interaction:melatonin:anticonvulsants", "minor")],
        [],
    ),
    (
        {"substances": M, "medications": ["zolpidem"]},
        [("interaction:melatonin:z-drugs", "moderate")],
        [],
    ),
    # Several interacting medicines at once, both agents, brand and generic mixed.
    (
        {"substances": KM, "medications": ["OxyContin 20mg", "Luvox 50 mg", "Xanax 1mg"]},
        [OPIOID, FLUVOX, BENZO, COMBO, ("interaction:melatonin:benzodiazepines", "moderate")],
        [],
    ),
    # A name that matches nothing is reported, never dropped.
    (
        {"substances": K, "medications": ["zzyzx 10 mg"]},
        [("medication:unmatched:zzyzx-10-mg", "moderate")],
        [],
    ),
    ({"substances": K, "medications": ["ibuprofen 400 mg", "oxycodone"]}, [OPIOID], []),
    # Neither substance in use: medicines alone raise nothing but the unmatched notes.
    ({"substances": [], "medications": ["oxycodone"]}, [], [OPIOID[0]]),
    # Individual variability.
    ({"substances": K, "factors": ["pregnant"]}, [("variability:pregnant:kratom", "major")], []),
    (
        {"substances": M, "factors": ["pregnant"]},
        [("variability:pregnant:melatonin", "major")],
        ["variability:pregnant:kratom"],
    ),
    (
        {"substances": M, "factors": ["breastfeeding"]},
        [("variability:breastfeeding:melatonin", "moderate")],
        [],
    ),
    ({"substances": K, "age_years": 16}, [("variability:under_18:kratom", "major")], []),
    ({"substances": K, "age_years": 18}, [], ["variability:under_18:kratom"]),
    ({"substances": M, "age_years": 70}, [("variability:age_65_plus:melatonin", "moderate")], []),
    ({"substances": M, "age_years": 64}, [], ["variability:age_65_plus:melatonin"]),
    (
        {"substances": K, "factors": ["hepatic_impairment"]},
        [("variability:hepatic_impairment:kratom", "major")],
        [],
    ),
    (
        {"substances": M, "factors": ["renal_impairment"]},
        [("variability:renal_impairment:melatonin", "moderate")],
        [],
    ),
    (
        {"substances": K, "factors": ["seizure_history"]},
        [("variability:seizure_history:kratom", "major")],
        [],
    ),
    (
        {"substances": K, "factors": ["psychiatric_condition"]},
        [("variability:psychiatric_condition:kratom", "moderate")],
        [],
    ),
    (
        {"substances": K, "factors": ["substance_use_disorder_history"]},
        [("variability:substance_use_disorder_history:kratom", "major")],
        [],
    ),
    ({"substances": K, "factors": ["long_qt"]}, [("variability:long_qt:kratom", "major")], []),
    (
        {"substances": M, "factors": ["autoimmune_disease"]},
        [("variability:autoimmune_disease:melatonin", "moderate")],
        [],
    ),
    (
        # Issue 17: graded minor like the diabetes-medicines row (the same study).
        {"substances": M, "factors": ["diabetes"]},
        [("variability:diabetes:melatonin", "minor")],
        [],
    ),
    ({"substances": KM}, [COMBO], []),
    ({"substances": K}, [], [COMBO[0]]),
    ({}, [], []),
]


@pytest.fixture
def knowledge(db):
    """Loaded once for the run by conftest's django_db_setup."""


def run(intake):
    return screening.screen(screening.parse_intake(intake, today=TODAY))


def hits(result) -> dict[str, str]:
    """Every rule hit (contributor) of a screening, by code, with its own severity."""
    return {c.code: c.severity for flag in result.flags for c in flag.contributors}


def test_at_least_40_intakes():
    assert len(CASES) >= 40


@pytest.mark.parametrize("intake,expected,absent", CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_intake(knowledge, intake, expected, absent):
    # Each rule hit is a contributor to one problem (issue 16; tests/test_problems.py).
    result = run(intake)
    got = hits(result)
    for code, severity in expected:
        assert got.get(code) == severity, (code, got)
    for code in absent:
        assert code not in got


def test_flags_are_ordered_most_serious_first(knowledge):
    result = run({"substances": KM, "medications": ["oxycodone", "metformin", "zzz"]})
    ranks = [
        ["contraindicated", "major", "moderate", "minor", "info"].index(f.severity)
        for f in result.flags
    ]
    assert ranks == sorted(ranks)


def test_each_flag_carries_advice_and_sources(knowledge):
    for flag in run(
        {"substances": KM, "medications": ["oxycodone", "Luvox"], "factors": ["pregnant"]}
    ).flags:
        assert flag.title and flag.advice and flag.sources, flag.code


def test_matches_show_what_each_row_matched(knowledge):
    result = run({"substances": K, "medications": ["OxyContin 20mg BID", "nothing known"]})
    assert [(m.typed, m.substance.key if m.substance else None) for m in result.matches] == [
        ("OxyContin 20mg BID", "oxycodone"),
        ("nothing known", None),
    ]
    assert result.unmatched == ["nothing known"]


def test_factor_rules_are_data_editors_maintain(knowledge):
    VariabilityRule.objects.filter(code="variability:diabetes:melatonin").update(severity="major")
    assert (
        hits(run({"substances": M, "factors": ["diabetes"]}))["variability:diabetes:melatonin"]
        == "major"
    )
    InteractionRule.objects.filter(code=OPIOID[0]).delete()
    assert OPIOID[0] not in hits(run({"substances": K, "medications": ["oxycodone"]}))


@pytest.mark.parametrize("meds", [1, 30])
def test_screening_costs_the_same_queries_for_1_and_30_medications(knowledge, meds):
    names = ["oxycodone", "Luvox", "warfarin", "Xanax", "metformin", "zzz unknown"] * 5
    intake = screening.parse_intake(
        {"substances": KM, "medications": names[:meds], "jurisdiction": "US-TX"}, today=TODAY
    )
    refdata.cache().clear()  # a fresh process: the token, then the whole knowledge base
    with CaptureQueriesContext(connection) as captured:
        first = screening.screen(intake)
    # The token, then 16 for the knowledge base (issue 16 added the problem catalogue and
    # the combination rules, two queries each).
    assert len(captured) == 17
    with CaptureQueriesContext(connection) as captured:  # then only the token
        again = screening.screen(intake)
    assert len(captured) == 1
    assert again == first


@pytest.mark.parametrize(
    "intake,message",
    [
        ({"substances": ["coffee"]}, "Unknown substance"),
        ({"factors": ["tall"]}, "Unknown factor code"),
        ({"age_years": "ten"}, "age_years"),
        ({"age_years": True}, "age_years"),
        ({"age_years": -1}, "age_years"),
        ({"medications": "oxycodone"}, "list of strings"),
        ({"medications": [1, 2]}, "list of strings"),
        ({"on": "yesterday"}, "YYYY-MM-DD"),
        ({"colour": "blue"}, "Unknown key"),
        ({"products": "lots"}, "list of objects"),
        ([], "JSON object"),
    ],
)
def test_bad_intake_is_refused_with_a_clear_message(intake, message):
    with pytest.raises(screening.IntakeError, match=message):
        screening.parse_intake(intake, today=TODAY)


class TestScreenCommand:
    def test_prints_flags_and_unmatched(self, knowledge, tmp_path):
        path = tmp_path / "intake.json"
        path.write_text(
            json.dumps(
                {
                    "on": "2026-11-22",
                    "substances": KM,
                    "medications": ["oxycodone 5 mg", "Luvox 100 mg", "mystery pill"],
                    "age_years": 16,
                    "factors": ["pregnant"],
                    "jurisdiction": "US-AL",
                    "products": [{"substance": "kratom", "form": "extract", "label_lot": "K-100"}],
                }
            )
        )
        out = io.StringIO()
        call_command("screen", str(path), stdout=out)
        printed = json.loads(out.getvalue())
        codes = {c["code"] for f in printed["flags"] for c in f["contributors"]}
        assert {OPIOID[0], FLUVOX[0], "variability:under_18:kratom", COMBO[0]} <= codes
        assert all(f["code"].startswith("problem:") for f in printed["flags"])
        assert printed["unmatched_medications"] == ["mystery pill"]
        assert set(printed["flags"][0]) == {
            "code",
            "category",
            "severity",
            "title",
            "advice",
            "sources",
            "contributors",
        }
        assert set(printed["flags"][0]["contributors"][0]) == {
            "code",
            "kind",
            "subject",
            "severity",
            "title",
            "advice",
            "sources",
            "medicines",
        }

    @pytest.mark.parametrize(
        "stdin,message",
        [
            ("{not json", "Not valid JSON"),
            ('{"factors": ["nope"]}', "Unknown factor code"),
            ('{"age_years": "x"}', "age_years"),
            ('{"substances": ["tea"]}', "Unknown substance"),
        ],
    )
    def test_bad_input_exits_2_without_a_traceback(self, stdin, message):
        done = subprocess.run(
            [sys.executable, "manage.py", "screen", "-"],
            input=stdin,
            capture_output=True,
            text=True,
            env={
                **__import__("os").environ,
                "DJANGO_DEBUG": "1",
                "DATABASE_URL": "sqlite:///:memory:",
            },
            check=False,
        )
        assert done.returncode == 2
        assert message in done.stderr and "Traceback" not in done.stderr
