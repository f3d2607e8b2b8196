"""Matching (issue 17, point 1): a medicine as typed resolves to every substance it
contains. Combination products and their brands name their ingredients; joined generic
names all count; a longer brand line wins over the shorter brand; kratom and 7-OH products
in the list are kratom use; a misspelt name gets a "did you mean"; an unchecked medicine is
a moderate caution for a kratom user."""

import datetime
import io
import json
import shutil
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from checklists import screening
from checklists.authoring import loaders
from checklists.authoring.files import CONTENT_DIR, ContentError
from checklists.authoring.knowledge_values import describe
from checklists.models import KnowledgeChange, Source, Substance
from checklists.screening.flags import Contributor

from .factories import make_response
from .test_knowledge_review import admin_url, decide, page_data

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 30)
K, M = ["kratom"], ["melatonin"]

OPIOID = "interaction:kratom:opioid-agonists"
CNS = "interaction:kratom:cns-depressants"
SEDATING = "interaction:kratom:sedating-antihistamines"
CYP2D6 = "interaction:kratom:cyp2d6-substrates"
BUPRENORPHINE = "interaction:kratom:moud-buprenorphine"
SEVEN_OH = "interaction:kratom:seven-oh-concentrate"
NALOXONE = "interaction:kratom:naloxone"
ANTAGONIST = "interaction:kratom:long-acting-opioid-antagonists"
SEIZURE = "interaction:kratom:seizure-threshold-lowering"
NO_RULE = None  # an ingredient the knowledge base holds, with no kratom rule of its own yet


def run(medications, substances=K, **intake):
    data = {"substances": substances, "medications": medications, **intake}
    return screening.screen(screening.parse_intake(data, today=TODAY))


def contributors(result) -> dict[str, Contributor]:
    return {c.code: c for flag in result.flags for c in flag.contributors}


def contents(result, n=0) -> set[str]:
    return {s.key for s in result.matches[n].contents}


# A medicine as typed, and each ingredient it must resolve to with the kratom rule that
# ingredient fires (the flag names the ingredient and the medicine as typed).
COMBINATIONS = [
    ("Percocet 5/325", {"oxycodone": OPIOID, "acetaminophen": NO_RULE}),
    ("Norco 10/325", {"hydrocodone": OPIOID, "acetaminophen": NO_RULE}),
    ("Vicodin ES", {"hydrocodone": CYP2D6, "acetaminophen": NO_RULE}),
    ("Tylenol #3", {"codeine": OPIOID, "acetaminophen": NO_RULE}),
    ("co-codamol 30/500", {"codeine": OPIOID, "acetaminophen": NO_RULE}),
    ("Fioricet", {"butalbital": CNS, "acetaminophen": NO_RULE, "caffeine": NO_RULE}),
    (
        "Fioricet with Codeine",
        {"butalbital": CNS, "codeine": OPIOID, "acetaminophen": NO_RULE, "caffeine": NO_RULE},
    ),
    (
        "butalbital, acetaminophen, caffeine and codeine",
        {"butalbital": CNS, "codeine": OPIOID, "acetaminophen": NO_RULE, "caffeine": NO_RULE},
    ),
    ("Ultracet 37.5/325", {"tramadol": OPIOID, "acetaminophen": NO_RULE}),
    # The naloxone of a tablet or film under the tongue is barely absorbed: never read as
    # the patient having rescue naloxone (Chiang and Hawks 2003).
    ("Suboxone 8/2 mg", {"buprenorphine": BUPRENORPHINE, "naloxone-sublingual": NO_RULE}),
    ("Zubsolv", {"buprenorphine": BUPRENORPHINE, "naloxone-sublingual": NO_RULE}),
    ("Contrave", {"naltrexone": ANTAGONIST, "bupropion": SEIZURE}),
    ("Lybalvi", {"olanzapine": NO_RULE, "samidorphan": ANTAGONIST}),
    ("Tylenol PM", {"diphenhydramine": SEDATING, "acetaminophen": NO_RULE}),
    ("Advil PM 2 caplets", {"diphenhydramine": SEDATING, "ibuprofen": NO_RULE}),
    ("Aleve PM", {"diphenhydramine": SEDATING, "naproxen": NO_RULE}),
    (
        "NyQuil 30 mL",
        {"doxylamine": SEDATING, "dextromethorphan": CYP2D6, "acetaminophen": NO_RULE},
    ),
    (
        "DayQuil Severe",
        {
            "dextromethorphan": CYP2D6,
            "acetaminophen": NO_RULE,
            "guaifenesin": NO_RULE,
            "phenylephrine": NO_RULE,
        },
    ),
    ("Robitussin DM", {"dextromethorphan": CYP2D6, "guaifenesin": NO_RULE}),
    ("Promethazine DM", {"promethazine": SEDATING, "dextromethorphan": CYP2D6}),
    (
        "Promethazine VC with codeine",
        {"promethazine": SEDATING, "codeine": OPIOID, "phenylephrine": NO_RULE},
    ),
    ("Unisom PM Pain", {"diphenhydramine": SEDATING, "acetaminophen": NO_RULE}),
    # Free text joining generic names: every name counts, not only the first.
    ("promethazine with codeine 5 mL", {"promethazine": SEDATING, "codeine": OPIOID}),
    ("oxycodone/acetaminophen 5/325", {"oxycodone": OPIOID, "acetaminophen": NO_RULE}),
    ("hydrocodone + ibuprofen", {"hydrocodone": OPIOID, "ibuprofen": NO_RULE}),
    (
        "Xanax and Benadryl",
        {"alprazolam": "interaction:kratom:benzodiazepines", "diphenhydramine": SEDATING},
    ),
]


@pytest.mark.parametrize("typed,ingredients", COMBINATIONS, ids=[c[0] for c in COMBINATIONS])
def test_a_combination_fires_the_rules_of_every_ingredient(typed, ingredients):
    result = run([typed])
    assert contents(result) == set(ingredients)
    hits = contributors(result)
    names = {s.key: s.name for s in result.matches[0].contents}
    for key, code in ingredients.items():
        if code is NO_RULE:
            continue
        assert code in hits, (key, sorted(hits))
        # The flag names the ingredient and the medicine as typed.
        assert f"{names[key]} (" in hits[code].subject and f"in {typed}" in hits[code].subject


def test_at_least_twelve_combination_products():
    products = [c for c in COMBINATIONS if len(c[1]) > 1]
    assert len(products) >= 12


def test_a_product_inside_a_list_meets_the_patients_other_medicines():
    result = run(["Fioricet with Codeine", "Xanax"])
    hits = contributors(result)
    assert "combination:opioid-agonists:benzodiazepines" in hits
    assert (
        "Codeine (opioid agonists, in Fioricet with Codeine)"
        in hits["combination:opioid-agonists:benzodiazepines"].subject
    )


def test_a_substance_alone_keeps_its_plain_label():
    result = run(["OxyContin 20mg BID"])
    assert contributors(result)[OPIOID].subject == "Oxycodone (opioid agonists) + kratom"


def test_a_name_spanning_the_joining_word_is_the_product():
    # "Fioricet with Codeine" is one product, not Fioricet plus codeine guessed apart.
    match = run(["Fioricet with Codeine"]).matches[0]
    assert match.substance.key == "fioricet-with-codeine" and match.substance.pk is not None


def test_joined_words_that_are_not_both_names_stay_one_medicine():
    assert contents(run(["oxycodone 5 mg, take with food"])) == {"oxycodone"}
    assert contents(run(["Suboxone 8/2 mg"])) == {"buprenorphine", "naloxone-sublingual"}


BRAND_LINES = [
    ("ZzzQuil Pure Zzzs gummies", {"melatonin"}),
    ("ZzzQuil", {"diphenhydramine"}),
    ("ZzzQuil Ultra", {"doxylamine"}),
    ("Unisom SleepTabs", {"doxylamine"}),
    ("Unisom SleepGels 50 mg", {"diphenhydramine"}),
    ("Unisom Sleep Gels", {"diphenhydramine"}),
    ("Unisom", {"doxylamine"}),
    ("Tylenol PM Extra Strength", {"acetaminophen", "diphenhydramine"}),
    ("Tylenol 500 mg", {"acetaminophen"}),
    ("Advil PM", {"ibuprofen", "diphenhydramine"}),
    ("Advil 200 mg", {"ibuprofen"}),
    ("NyQuil Severe", {"acetaminophen", "dextromethorphan", "doxylamine", "phenylephrine"}),
    ("NyQuil", {"acetaminophen", "dextromethorphan", "doxylamine"}),
]


@pytest.mark.parametrize("typed,expected", BRAND_LINES, ids=[b[0] for b in BRAND_LINES])
def test_the_longer_brand_line_wins(typed, expected):
    assert contents(run([typed])) == expected


def test_zzzquil_pure_zzzs_is_melatonin_use_not_a_sedating_antihistamine():
    result = run(["ZzzQuil Pure Zzzs"])
    assert result.substances == {"kratom", "melatonin"}
    hits = contributors(result)
    assert "combination:kratom:melatonin" in hits and SEDATING not in hits


KRATOM_PRODUCTS = [
    "7-OH tablets",
    "7OH",
    "7-OH",
    "OPMS",
    "O.P.M.S. liquid",
    "MIT45",
    "MIT 45 gold",
    "kratom capsules",
]


@pytest.mark.parametrize("typed", KRATOM_PRODUCTS)
def test_a_kratom_product_in_the_list_is_kratom_use(typed):
    # Nothing ticked: the list alone says kratom is in use, so kratom's rules apply.
    result = run([typed, "oxycodone"], substances=[])
    assert "kratom" in result.substances
    assert result.from_medicines == {"kratom": (typed,)}
    assert OPIOID in contributors(result)


@pytest.mark.parametrize("typed", ["7-OH tablets", "7OH", "7-oh shots"])
def test_seven_oh_in_the_list_fires_the_concentrate_rules(typed):
    hits = contributors(run([typed], substances=[], factors=["pregnant"]))
    assert SEVEN_OH in hits and "variability:pregnant:kratom" in hits


def test_a_list_without_kratom_products_adds_no_agent():
    result = run(["oxycodone"], substances=[])
    assert result.substances == frozenset() and result.from_medicines == {}
    assert OPIOID not in contributors(result)


SPELLINGS = [
    ("sertralin 50 mg", "Sertraline"),
    ("oxycodon", "Oxycodone"),
    ("gabapentine 300mg tid", "Gabapentin"),
    ("xanx", "Xanax (Alprazolam)"),
    ("ambian at night", "Ambien (Zolpidem)"),
    ("kratum", "Kratom"),
    ("lorazepan", "Lorazepam"),
    ("seroquil", "Seroquel (Quetiapine)"),
    ("percoset", "Percocet (Oxycodone and acetaminophen)"),
    ("melatonn 3 mg", "Melatonin"),
]


@pytest.mark.parametrize("typed,suggestion", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_a_misspelt_name_gets_the_closest_known_name(typed, suggestion):
    result = run([typed])
    assert result.unmatched == [typed]
    assert result.suggestions == {typed: suggestion}
    flag = contributors(result)[f"medication:unmatched:{typed.lower().replace(' ', '-')}"]
    assert f"The closest known name is {suggestion}" in flag.advice


NOT_CLOSE = [
    "vitamin d",
    "fish oil",
    "calcium 600",
    "biotin",
    "glucosamine",
    "mystery tonic",
    "zzyzx 10 mg",
    "pain",
]


@pytest.mark.parametrize("typed", NOT_CLOSE)
def test_a_word_close_to_nothing_gets_no_suggestion(typed):
    result = run([typed])
    assert result.unmatched == [typed] and result.suggestions == {}


def test_a_joined_part_misspelt_is_suggested_beside_what_matched():
    match = run(["Tylenol with codiene"]).matches[0]
    assert {s.key for s in match.contents} == {"acetaminophen"}
    assert match.suggestion == "Codeine"


def test_suggestions_are_fast_enough_for_a_long_list():
    names = [f"unknownium {n} mg" for n in range(100)]
    started = time.perf_counter()
    run(names)
    # About 1 ms per unmatched medicine on a shared machine; 100 in well under 2 s.
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "substances,medications,severity",
    [
        (K, ["zzyzx 10 mg"], "moderate"),
        (["kratom", "melatonin"], ["zzyzx 10 mg"], "moderate"),
        ([], ["7OH", "zzyzx 10 mg"], "moderate"),
        (M, ["zzyzx 10 mg"], "minor"),
        ([], ["zzyzx 10 mg"], "info"),
    ],
)
def test_an_unchecked_medicine_is_graded_by_the_agents_in_use(substances, medications, severity):
    result = run(medications, substances=substances)
    flag = next(f for f in result.flags if f.code == "problem:unchecked-medicines")
    assert flag.severity == severity
    assert not flag.needs_acknowledgement


def test_screen_command_prints_suggestions_and_agents_from_the_list(tmp_path):
    path = tmp_path / "intake.json"
    path.write_text(json.dumps({"medications": ["sertralin", "7-OH tablets"]}))
    out = io.StringIO()
    call_command("screen", str(path), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["did_you_mean"] == {"sertralin": "Sertraline"}
    assert printed["substances_from_medications"] == {"kratom": ["7-OH tablets"]}
    assert printed["unmatched_medications"] == ["sertralin"]


def test_the_section_page_shows_the_suggestion_and_the_ingredients(
    clinician_client, case, clinician, version
):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "medication_interactions"])
    clinician_client.post(
        url,
        {
            "substances_in_use": ["melatonin"],
            "combined_use": "no",
            "lock_version": 0,
            "current_medications-0-name": "sertralin 50 mg",
            "current_medications-1-name": "Tylenol PM",
            "current_medications-2-name": "7-OH tablets",
            "stay": "",
        },
    )
    body = clinician_client.get(url).content.decode()
    assert "sertralin 50 mg → <span" in body
    assert "Did you mean <strong>Sertraline</strong>?" in body
    assert (
        "Tylenol PM → <strong>Tylenol PM</strong>: Acetaminophen (paracetamol), Diphenhydramine"
        in body
    )
    assert "(counts as kratom use)" in body


def product_form(client, **values) -> dict:
    """The add page's fields as a browser sends them (no class chosen), with `values`."""
    data = page_data(client.get(admin_url(Substance, "add/")))
    return {**data, "classes": [], "ingredients": [], "sources": [], **values}


def test_an_editor_proposes_a_product_with_its_ingredients(editor_client, reviewer_client):
    ingredients = sorted(
        Substance.objects.filter(key__in=["codeine", "acetaminophen"]).values_list("pk", flat=True)
    )
    source = Source.objects.get(key="fda-ndc-acetaminophen-codeine")
    name = next(
        k
        for k in page_data(editor_client.get(admin_url(Substance, "add/")))
        if k.endswith("-0-name")
    )
    data = product_form(
        editor_client,
        key="zz-codeine-combo",
        name="Zzcodamol",
        kind="product",
        ingredients=ingredients,
        sources=[source.pk],
        source_says="Two active ingredients on the label.",
        reviewed_on="2026-11-30",
        review_by="2027-11-30",
        proposal_reason="A brand seen in clinic.",
        **{name: "Zzcodamol"},
    )
    assert editor_client.post(admin_url(Substance, "add/"), data).status_code == 302
    change = KnowledgeChange.objects.get()
    assert change.proposed["ingredients"] == ingredients
    assert {row.label for row in describe(change)} >= {"Ingredients", "Names"}
    assert not Substance.objects.filter(key="zz-codeine-combo").exists()
    assert run(["Zzcodamol 2 tabs"]).unmatched == ["Zzcodamol 2 tabs"]
    decide(reviewer_client, change, "approve")
    product = Substance.objects.get(key="zz-codeine-combo")
    assert sorted(product.ingredients.values_list("pk", flat=True)) == ingredients
    assert contents(run(["Zzcodamol 2 tabs"])) == {"codeine", "acetaminophen"}


def test_a_product_without_ingredients_or_label_is_refused(editor_client):
    data = product_form(
        editor_client, key="zz-empty", name="Zz empty", kind="product", proposal_reason="Test."
    )
    page = editor_client.post(admin_url(Substance, "add/"), data)
    assert page.status_code == 200
    assert "a product names at least one ingredient" in page.text
    assert "cite the label" in page.text
    assert not KnowledgeChange.objects.exists()


def test_a_change_of_ingredients_is_proposed_and_shown_before_and_after(
    editor_client, reviewer_client
):
    fioricet = Substance.objects.get(key="butalbital-acetaminophen-caffeine")
    url = admin_url(Substance, "change/", fioricet.pk)
    data = page_data(editor_client.get(url))
    caffeine = Substance.objects.get(key="caffeine").pk
    data["ingredients"] = [pk for pk in data["ingredients"] if pk != caffeine]
    data["proposal_reason"] = "Caffeine-free line."
    assert editor_client.post(url, data).status_code == 302
    change = KnowledgeChange.objects.get()
    shown = {row.label: row for row in describe(change)}
    assert (
        "Caffeine" in shown["Ingredients"].before and "Caffeine" not in shown["Ingredients"].after
    )
    assert "caffeine" in contents(run(["Fioricet"]))
    decide(reviewer_client, change, "approve")
    assert contents(run(["Fioricet"])) == {"butalbital", "acetaminophen"}


def test_loading_the_default_content_twice_changes_nothing():
    def ingredients():
        products = Substance.objects.filter(kind="product").prefetch_related("ingredients")
        return {p.key: sorted(i.key for i in p.ingredients.all()) for p in products}

    before = ingredients()
    assert len(before) >= 20
    # The loader itself (what a first installation and an approved release run) ...
    assert loaders.load_knowledge() == 0
    # ... and the deploy's command, twice.
    call_command("load_default_content", stdout=io.StringIO())
    out = io.StringIO()
    call_command("load_default_content", stdout=out)
    assert "Knowledge: unchanged" in out.getvalue()
    assert ingredients() == before


def test_every_product_cites_a_label_and_dates_its_review():
    for product in Substance.objects.filter(kind="product").prefetch_related("sources"):
        assert product.sources.exists() and product.source_says, product.key
        assert product.reviewed_on and product.review_by > product.reviewed_on, product.key


@pytest.fixture
def knowledge_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(CONTENT_DIR / "knowledge", target)
    return target


def edit_products(directory, change):
    rows = json.loads((directory / "products.json").read_text())
    change(rows)
    (directory / "products.json").write_text(json.dumps(rows))


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda rows: rows[0].update(ingredients=["no-such-drug"]), "unknown ingredient"),
        (lambda rows: rows[0].update(ingredients=["opioid-agonists"]), "not a substance"),
        (lambda rows: rows[0].update(sources=[]), "missing"),
        (lambda rows: rows[0].update(review_by=None), "missing"),
        (lambda rows: rows[0].update(key="oxycodone"), "already a substance"),
        (lambda rows: rows[0]["aliases"].append("OxyContin"), "already belongs"),
    ],
)
def test_a_bad_product_row_is_refused(knowledge_copy, change, message):
    edit_products(knowledge_copy, change)
    with pytest.raises(ContentError, match=message):
        loaders.load_knowledge(knowledge_copy)


def test_a_changed_ingredient_list_reaches_screening(knowledge_copy):
    edit_products(
        knowledge_copy,
        lambda rows: next(r for r in rows if r["key"] == "tylenol-pm")["ingredients"].append(
            "caffeine"
        ),
    )
    assert loaders.load_knowledge(knowledge_copy) == 1
    assert contents(run(["Tylenol PM"])) == {"acetaminophen", "diphenhydramine", "caffeine"}


def test_a_product_left_without_ingredients_is_checked_by_hand():
    # Deleting a product's only ingredient must not leave a name that matches and screens
    # nothing.
    assert contents(run(["Contrave"])) == {"naltrexone", "bupropion"}  # held in memory now
    # Changing the ingredients alone (no other field) is seen at once (refdata's token).
    Substance.objects.get(key="naltrexone-bupropion").ingredients.clear()
    assert run(["Contrave"]).unmatched == ["Contrave"]
