"""The classes issue 17 found missing (opioid antagonists, serotonergic medicines, bupropion,
tianeptine, phenibut, kava, xylazine; for melatonin caffeine, CYP1A2 inhibitors and the
sedating medicines) and its grading fixes, screened against the starter knowledge base."""

import datetime
import json

import pytest

from checklists import screening
from checklists.models import (
    CombinationRule,
    InteractionRule,
    Substance,
    SubstanceAlias,
    VariabilityRule,
)

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 30)

K, M, KM = ["kratom"], ["melatonin"], ["kratom", "melatonin"]
ANTAGONIST = ("interaction:kratom:long-acting-opioid-antagonists", "major")
NALOXONE = ("interaction:kratom:naloxone", "info")
SEROTONERGIC = ("combination:serotonergic-drugs", "major")
SEIZURE = ("interaction:kratom:seizure-threshold-lowering", "moderate")
MAOI_DECONGESTANT = ("combination:maois:decongestants", "major")
OREXIN = ("interaction:melatonin:orexin-receptor-antagonists", "moderate")
MT_AGONIST = ("interaction:melatonin:melatonin-receptor-agonists", "minor")
SEDATING = ("interaction:melatonin:cns-depressants", "minor")
CYP1A2 = ("interaction:melatonin:cyp1a2-inhibitors", "moderate")
ANTICONVULSANT = "interaction:melatonin:anticonvulsants"

# (intake, flags that must be raised (code, severity), codes that must not be raised)
CASES = [
    # Opioid antagonists: precipitated withdrawal in a kratom user.
    ({"substances": K, "medications": ["Vivitrol 380 mg monthly"]}, [ANTAGONIST], []),
    ({"substances": K, "medications": ["naltrexone 50 mg"]}, [ANTAGONIST], []),
    ({"substances": K, "medications": ["Revia"]}, [ANTAGONIST], []),
    ({"substances": K, "medications": ["Selincro 18 mg"]}, [ANTAGONIST], []),
    ({"substances": K, "medications": ["samidorphan"]}, [ANTAGONIST], []),
    ({"substances": M, "medications": ["Vivitrol"]}, [], [ANTAGONIST[0]]),
    # Naloxone is the rescue medicine: information only, never the antagonist caution.
    ({"substances": K, "medications": ["Narcan 4 mg nasal spray"]}, [NALOXONE], [ANTAGONIST[0]]),
    # The naloxone in buprenorphine-naloxone is no rescue dose: Suboxone alone never says
    # the patient has naloxone; a naloxone kit beside it still does.
    ({"substances": K, "medications": ["Suboxone 8/2 mg film"]}, [], [NALOXONE[0]]),
    ({"substances": K, "medications": ["Zubsolv", "Narcan"]}, [NALOXONE], [ANTAGONIST[0]]),
    # Constipation medicines that act outside the brain are not in the antagonist rule.
    ({"substances": K, "medications": ["Relistor"]}, [], [ANTAGONIST[0]]),
    (
        {"substances": K, "medications": ["Vivitrol", "oxycodone 5 mg"]},
        [ANTAGONIST, ("combination:long-acting-opioid-antagonists:opioid-agonists", "major")],
        [],
    ),
    (
        {"substances": M, "medications": ["naltrexone", "Suboxone 8/2 mg"]},
        [("combination:long-acting-opioid-antagonists:moud-buprenorphine", "major")],
        [],
    ),
    # Serotonergic medicines: SNRIs, MAOIs, lithium, triptans.
    (
        {"substances": K, "medications": ["Cymbalta 60 mg", "tramadol 50 mg"]},
        [SEROTONERGIC, ("combination:cyp2d6-prodrug-opioids:cyp2d6-inhibitors", "moderate")],
        [],
    ),
    ({"substances": M, "medications": ["Nardil 15 mg", "sertraline"]}, [SEROTONERGIC], []),
    ({"substances": K, "medications": ["lithium carbonate 300 mg", "Prozac"]}, [SEROTONERGIC], []),
    ({"substances": M, "medications": ["Pristiq", "Emsam patch"]}, [SEROTONERGIC], []),
    (
        {"substances": M, "medications": ["sumatriptan 50 mg", "sertraline"]},
        [("combination:triptans:serotonergic-drugs", "moderate")],
        [SEROTONERGIC[0]],
    ),
    ({"substances": K, "medications": ["Nardil", "Sudafed"]}, [MAOI_DECONGESTANT], []),
    ({"substances": M, "medications": ["Sudafed PE", "Parnate"]}, [MAOI_DECONGESTANT], []),
    # Bupropion: the seizure threshold.
    ({"substances": K, "medications": ["Wellbutrin XL 300 mg"]}, [SEIZURE], []),
    ({"substances": K, "medications": ["Zyban"]}, [SEIZURE], []),
    # Products sold next to kratom.
    (
        {"substances": K, "medications": ["tianeptine"]},
        [("interaction:kratom:tianeptine", "major")],
        ["interaction:kratom:opioid-agonists"],
    ),
    (
        {"substances": K, "medications": ["Neptune's Fix", "Xanax"]},
        [
            ("interaction:kratom:tianeptine", "major"),
            ("combination:opioid-agonists:benzodiazepines", "major"),
        ],
        [],
    ),
    (
        {"substances": K, "medications": ["phenibut 500 mg"]},
        [("interaction:kratom:phenibut", "major")],
        ["interaction:kratom:cns-depressants"],
    ),
    ({"substances": M, "medications": ["phenibut"]}, [SEDATING], []),
    (
        {"substances": K, "medications": ["kava kava"]},
        [("interaction:kratom:kava", "moderate")],
        [],
    ),
    (
        {"substances": K, "medications": ["tranq", "fentanyl"]},
        [
            ("interaction:kratom:xylazine", "major"),
            ("interaction:kratom:opioid-agonists", "major"),
            ("combination:opioid-agonists:cns-depressants", "major"),
        ],
        [],
    ),
    # Melatonin: sleep medicines, caffeine and CYP1A2 inhibitors.
    ({"substances": M, "medications": ["Belsomra 10 mg"]}, [OREXIN], []),
    ({"substances": M, "medications": ["Dayvigo"]}, [OREXIN], []),
    ({"substances": M, "medications": ["Rozerem 8 mg"]}, [MT_AGONIST], []),
    ({"substances": M, "medications": ["Hetlioz"]}, [MT_AGONIST], []),
    (
        {"substances": M, "medications": ["coffee, 4 cups a day"]},
        [("interaction:melatonin:caffeine", "minor")],
        [CYP1A2[0]],
    ),
    ({"substances": M, "medications": ["mexiletine"]}, [CYP1A2], []),
    ({"substances": M, "medications": ["trazodone 50 mg"]}, [SEDATING], []),
    (
        {"substances": M, "medications": ["imipramine"]},
        [("interaction:melatonin:tricyclic-antidepressants", "minor")],
        [],
    ),
    (
        {"substances": M, "medications": ["diphenhydramine 50 mg"]},
        [("interaction:melatonin:sedating-antihistamines", "minor")],
        [],
    ),
    # Grading fix: gabapentin for pain is a sedating medicine, not an antiseizure one.
    (
        {"substances": M, "medications": ["gabapentin 300 mg for pain"]},
        [SEDATING],
        [ANTICONVULSANT],
    ),
    ({"substances": M, "medications": ["Lyrica"]}, [SEDATING], [ANTICONVULSANT]),
    ({"substances": M, "medications": ["lamotrigine"]}, [(ANTICONVULSANT, "minor")], []),
    # Grading fix: Datura is anticholinergic, not a stimulant.
    (
        {"substances": K, "medications": ["Datura tea"]},
        [("interaction:kratom:datura", "moderate")],
        ["interaction:kratom:stimulants"],
    ),
    (
        {"substances": K, "medications": ["Adderall"]},
        [("interaction:kratom:stimulants", "moderate")],
        [],
    ),
    # Grading fix: the blood-pressure trial was of nifedipine.
    (
        {"substances": M, "medications": ["Procardia XL 30 mg"]},
        [("interaction:melatonin:nifedipine", "moderate")],
        ["interaction:melatonin:antihypertensives"],
    ),
    (
        {"substances": M, "medications": ["amlodipine 5 mg"]},
        [("interaction:melatonin:antihypertensives", "minor")],
        ["interaction:melatonin:nifedipine"],
    ),
    # Grading fix: the INR reports are of warfarin (vitamin K antagonists).
    (
        {"substances": M, "medications": ["acenocoumarol"]},
        [("interaction:melatonin:vitamin-k-antagonists", "moderate")],
        [],
    ),
    (
        {"substances": M, "medications": ["Eliquis 5 mg"]},
        [("interaction:melatonin:anticoagulants", "minor")],
        ["interaction:melatonin:vitamin-k-antagonists"],
    ),
    # Grading fix: diabetes as a factor and as an interaction rest on the same study.
    (
        {"substances": M, "medications": ["metformin"], "factors": ["diabetes"]},
        [
            ("variability:diabetes:melatonin", "minor"),
            ("interaction:melatonin:diabetes-medicines", "minor"),
        ],
        [],
    ),
    # Wording fix only: the single-dose CYP2D6 study keeps its minor grade.
    (
        {"substances": K, "medications": ["metoprolol"]},
        [("interaction:kratom:cyp2d6-substrates", "minor")],
        [],
    ),
    ({"substances": KM}, [("combination:kratom:melatonin", "moderate")], []),
    # Plain ingredients are known names, so they are not reported as unknown.
    (
        {"substances": K, "medications": ["Tylenol 500 mg", "Advil 200 mg", "Aleve"]},
        [],
        ["medication:unmatched:tylenol-500-mg", "medication:unmatched:advil-200-mg"],
    ),
]


def run(intake):
    return screening.screen(screening.parse_intake(intake, today=TODAY))


def hits(result) -> dict[str, str]:
    """Every rule hit (contributor) of a screening, by code, with its own severity."""
    return {c.code: c.severity for flag in result.flags for c in flag.contributors}


@pytest.mark.parametrize("intake,expected,absent", CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_intake(intake, expected, absent):
    got = hits(run(intake))
    for code, severity in expected:
        assert got.get(code) == severity, (code, got)
    for code in absent:
        assert code not in got, (code, got)


@pytest.mark.parametrize(
    "typed,key",
    [
        ("Cymbalta", "duloxetine"),
        ("Wellbutrin", "bupropion"),
        ("Nardil", "phenelzine"),
        ("lithium", "lithium"),
        ("Belsomra", "suvorexant"),
        ("Rozerem", "ramelteon"),
        ("Narcan", "naloxone"),
        ("Opvee", "nalmefene"),
        ("paracetamol 1 g", "acetaminophen"),
        ("Motrin IB", "ibuprofen"),
        ("ASA 81 mg", "aspirin"),
        ("5-ASA 800 mg", "mesalazine"),
        ("Mucinex", "guaifenesin"),
        ("chlorpheniramine 4 mg", "chlorphenamine"),
    ],
)
def test_everyday_names_the_issue_found_unmatched_are_known(typed, key):
    (match,) = run({"substances": K, "medications": [typed]}).matches
    assert match.substance is not None and match.substance.key == key


@pytest.mark.parametrize(
    "key,member_of,not_member_of",
    [
        ("datura", "anticholinergics", "stimulants"),
        ("gabapentin", "gabapentinoids", "anticonvulsants"),
        ("pregabalin", "gabapentinoids", "anticonvulsants"),
        ("naloxone", "opioid-antagonists", "long-acting-opioid-antagonists"),
        ("caffeine", None, "cyp1a2-inhibitors"),
    ],
)
def test_class_membership_follows_the_evidence(key, member_of, not_member_of):
    """Datura is anticholinergic; gabapentinoids are not the antiseizure medicines of the
    melatonin report; naloxone's rescue use must not raise the antagonist caution; caffeine
    has its own melatonin row rather than the moderate CYP1A2-inhibitor one."""
    classes = set(Substance.objects.get(key=key).classes.values_list("key", flat=True))
    assert member_of is None or member_of in classes
    assert not_member_of not in classes


def test_the_knowledge_base_holds_at_least_350_substances_and_1200_names():
    assert Substance.objects.count() >= 350
    assert SubstanceAlias.objects.count() >= 1200


EVIDENCE_TAGS = {"REG", "SR", "CS", "OBS", "CR", "IV", "EO", "UNK"}


@pytest.mark.parametrize("model", [InteractionRule, VariabilityRule, CombinationRule])
def test_every_rule_has_a_source_an_evidence_level_and_a_review_date(model):
    for rule in model.objects.prefetch_related("sources"):
        tags = {t.strip() for t in rule.evidence.split(",")}
        assert rule.sources.all(), rule.code
        assert rule.evidence and tags <= EVIDENCE_TAGS, (rule.code, rule.evidence)
        assert rule.review_by is not None and rule.reviewed_on is not None, rule.code


REASSURING = (
    "no routine change",
    "not expected to inhibit",
    "unless the prescriber agrees",
    "prescriber's agreement",
)


@pytest.mark.parametrize("model", [InteractionRule, VariabilityRule, CombinationRule])
def test_no_advice_reads_as_reassurance(model):
    for rule in model.objects.all():
        advice = rule.advice.lower()
        assert not [phrase for phrase in REASSURING if phrase in advice], rule.code
