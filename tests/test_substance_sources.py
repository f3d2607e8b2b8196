"""What a substance class rests on (issue 17): membership decides which rule fires
(methadone is QT-prolonging, fluvoxamine a CYP1A2 inhibitor), so every class cites the
source that defines its members, every substance row has a review-by date, an editor's
change to either is a proposal a second editor approves, and the overdue page names a
class when its review falls due."""

import datetime
import json
import shutil

import pytest

from checklists.authoring import files, loaders, review_table
from checklists.authoring.files import CONTENT_DIR, ContentError
from checklists.authoring.knowledge_values import describe
from checklists.models import KnowledgeChange, Source, Substance

from .test_knowledge_review import admin_url, decide, page_data, propose_edit

OVERDUE = "/admin/checklists/templateversion/overdue/"
QT = "qt-prolonging-drugs"


def read(path: str):
    return files.read_json(CONTENT_DIR / path)


# --- the data file ----------------------------------------------------------------------


def test_every_class_cites_a_known_source_and_every_substance_has_a_review_by_date():
    known = {s["key"] for s in read("sources.json")}
    rows = read("knowledge/substances.json")
    classes = [row for row in rows if row["kind"] == "drug_class"]
    assert len(classes) >= 40
    for row in classes:
        assert row.get("sources") and set(row["sources"]) <= known, row["key"]
        assert row.get("source_says", "").strip(), f"{row['key']}: say what the source states"
        assert row.get("reviewed_on") and row["review_by"] > row["reviewed_on"], row["key"]
    for row in rows:
        assert row.get("review_by"), f"{row['key']}: no review_by date"
        assert set(row.get("sources", [])) <= known, row["key"]


@pytest.mark.django_db
def test_norfloxacin_is_not_a_cyp1a2_inhibitor_because_its_source_says_so():
    """Hansten and Horn: norfloxacin, like levofloxacin and moxifloxacin, appears to have
    little effect on CYP1A2; the melatonin CYP1A2 rule must not fire for it."""
    norfloxacin = Substance.objects.get(key="norfloxacin")
    assert not norfloxacin.classes.filter(key="cyp1a2-inhibitors").exists()
    ciprofloxacin = Substance.objects.get(key="ciprofloxacin")
    assert ciprofloxacin.classes.filter(key="cyp1a2-inhibitors").exists()


@pytest.mark.django_db
def test_a_loaded_class_keeps_its_sources_what_they_say_and_its_dates():
    qt = Substance.objects.get(key=QT)
    assert set(qt.sources.values_list("key", flat=True)) >= {"crediblemeds-qtdrugs"}
    assert "methadone" in qt.source_says
    assert qt.reviewed_on == datetime.date(2026, 11, 30)
    assert qt.review_by == datetime.date(2027, 5, 30)
    plain = Substance.objects.get(key="methadone")
    assert plain.review_by == datetime.date(2027, 5, 30) and not plain.sources.exists()


# --- the loader -------------------------------------------------------------------------


@pytest.fixture
def knowledge_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(CONTENT_DIR / "knowledge", target)
    return target


def edit_row(directory, key, change):
    path = directory / "substances.json"
    rows = json.loads(path.read_text())
    change(next(row for row in rows if row["key"] == key))
    path.write_text(json.dumps(rows))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key,change,message",
    [
        (
            QT,
            lambda row: row.update(sources=[]),
            r"class 'qt-prolonging-drugs' \(QT-prolonging drugs\): Sources: a class cites "
            r"the source that defines its members",
        ),
        (
            QT,
            lambda row: row.pop("sources"),
            r"class 'qt-prolonging-drugs'.*defines its members",
        ),
        (QT, lambda row: row.update(sources=["no-such-source"]), "unknown source"),
        (
            "methadone",
            lambda row: row.pop("review_by"),
            r"substance 'methadone': Review by: every substance names the day",
        ),
        (QT, lambda row: row.update(reviewed_on="30/11/2026"), "not YYYY-MM-DD"),
    ],
)
def test_the_loader_refuses_a_row_without_what_it_rests_on(knowledge_copy, key, change, message):
    edit_row(knowledge_copy, key, change)
    with pytest.raises(ContentError, match=message):
        loaders.load_knowledge(knowledge_copy)
    # One transaction: nothing of the refused file was written.
    assert Substance.objects.get(key=QT).sources.exists()


@pytest.mark.django_db
def test_a_drug_may_cite_no_source_and_loading_twice_changes_nothing(knowledge_copy):
    edit_row(knowledge_copy, "methadone", lambda row: row.update(sources=[]))
    assert loaders.load_knowledge(knowledge_copy) == 0
    edit_row(
        knowledge_copy, "methadone", lambda row: row.update(sources=["dailymed-methadone-tablets"])
    )
    assert loaders.load_knowledge(knowledge_copy) == 1
    assert loaders.load_knowledge(knowledge_copy) == 0
    assert list(Substance.objects.get(key="methadone").sources.values_list("key", flat=True)) == [
        "dailymed-methadone-tablets"
    ]


# --- two people: an admin edit proposes, a second editor approves ------------------------


@pytest.mark.django_db
def test_an_edit_of_a_class_sources_is_a_proposal_a_second_editor_approves(
    editor_client, reviewer_client
):
    qt = Substance.objects.get(key=QT)
    before = sorted(qt.sources.values_list("pk", flat=True))
    added = Source.objects.get(key="leong-singh-2021-qt")
    answer = propose_edit(
        editor_client, qt, sources=[*before, added.pk], source_says="Also the kratom QT review."
    )
    assert answer.status_code == 302
    change = KnowledgeChange.objects.get()
    assert change.base["sources"] == before
    assert change.proposed["sources"] == sorted([*before, added.pk])
    shown = {row.label: row for row in describe(change)}
    assert added.title in shown["Sources"].after and added.title not in shown["Sources"].before
    assert sorted(qt.sources.values_list("pk", flat=True)) == before  # nothing written yet
    assert "you cannot approve it" in decide(editor_client, change, "approve").text
    assert "approved and applied" in decide(reviewer_client, change, "approve").text
    qt.refresh_from_db()
    assert added in qt.sources.all() and qt.source_says == "Also the kratom QT review."
    assert qt.history.latest().history_change_reason


@pytest.mark.django_db
def test_a_class_left_without_a_source_or_a_review_date_is_refused_in_the_form(editor_client):
    qt = Substance.objects.get(key=QT)
    page = propose_edit(editor_client, qt, sources=[])
    assert page.status_code == 200
    assert "a class cites the source that defines its members" in page.text
    page = propose_edit(editor_client, qt, review_by="")
    assert page.status_code == 200
    assert "every substance names the day it must be reviewed again" in page.text
    assert not KnowledgeChange.objects.exists()


@pytest.mark.django_db
def test_a_new_class_without_a_source_is_refused(editor_client):
    data = page_data(editor_client.get(admin_url(Substance, "add/")))
    data.update(
        key="zz-class",
        name="Zz class",
        kind="drug_class",
        classes=[],
        ingredients=[],
        sources=[],
        review_by="2027-05-30",
        proposal_reason="A new class.",
    )
    page = editor_client.post(admin_url(Substance, "add/"), data)
    assert page.status_code == 200
    assert "a class cites the source that defines its members" in page.text
    assert not KnowledgeChange.objects.exists()


# --- the overdue page and the reviewer's table --------------------------------------------


@pytest.mark.django_db
def test_the_overdue_page_lists_a_class_past_its_review_by(editor_client):
    page = editor_client.get(OVERDUE)
    assert "Substances (classes, products and their members) (0)" in page.text
    Substance.objects.filter(key="cyp1a2-inhibitors").update(review_by=datetime.date(2026, 1, 1))
    page = editor_client.get(OVERDUE)
    assert page.status_code == 200
    assert "Substances (classes, products and their members) (1)" in page.text
    cyp = Substance.objects.get(key="cyp1a2-inhibitors")
    assert f'href="/admin/checklists/substance/{cyp.pk}/change/">CYP1A2 inhibitors</a>' in (
        page.text
    )
    assert "2026-01-01" in page.text


def test_the_review_table_has_one_row_per_class_with_its_members_and_sources():
    rows = {row[0].split(" ")[0]: row for row in review_table.build_class_rows()}
    classes = [r for r in read("knowledge/substances.json") if r["kind"] == "drug_class"]
    assert set(rows) == {r["key"] for r in classes}
    key, members, sources, reviewed, review_by = rows["cyp1a2-inhibitors"]
    assert members == "8"  # norfloxacin left the class
    assert "hansten-horn-cyp1a2-inhibitors" in sources
    assert (reviewed, review_by) == ("2026-11-30", "2027-05-30")
    assert "\n## Substance classes\n" in review_table.build()
