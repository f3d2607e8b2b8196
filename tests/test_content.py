"""Content: published versions are frozen; the default checklist is complete and cited."""

import json

import pytest
from django.core.management import call_command

from checklists.authoring import files, loaders
from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.models import (
    ChecklistTemplate,
    Citation,
    ImmutableContentError,
    Item,
    Section,
    Source,
    TemplateVersion,
)

from .factories import make_version

pytestmark = pytest.mark.django_db

SECTION_ORDER = [
    "medication_interactions",
    "individual_variability",
    "legal_verification",
    "supplier_lab_testing",
    "plan_and_monitoring",
]
CAUTION_TAGS = {
    "professional_consultation",
    "medication_interactions",
    "kratom_melatonin_combination",
    "side_effects_dependence",
    "individual_physiology",
    "health_conditions",
    "addiction_withdrawal_history",
    "legal_status_varies",
    "legal_verification",
    "reputable_supplier",
    "third_party_lab_results",
    "start_low_dose",
    "regular_monitoring",
}


class TestPublishedVersionIsFrozen:
    @pytest.fixture
    def published(self):
        return make_version()

    def test_version_fields_refuse_change(self, published):
        published.change_summary = "edited"
        with pytest.raises(ImmutableContentError):
            published.save()

    def test_version_can_only_move_to_retired(self, published):
        published.status = TemplateVersion.Status.RETIRED
        published.save()
        published.status = TemplateVersion.Status.DRAFT
        with pytest.raises(ImmutableContentError):
            published.save()

    def test_version_refuses_delete(self, published):
        with pytest.raises(ImmutableContentError):
            published.delete()
        with pytest.raises(ImmutableContentError):
            TemplateVersion.objects.filter(pk=published.pk).delete()
        with pytest.raises(ImmutableContentError):
            TemplateVersion.objects.filter(pk=published.pk).update(change_summary="x")

    @pytest.mark.parametrize("model", [Section, Item, Citation])
    def test_rows_refuse_save_delete_and_bulk_writes(self, published, model):
        row = model.objects.filter(
            **({"item__version": published} if model is Citation else {"version": published})
        ).first()
        field = "locator" if model is Citation else "title" if model is Section else "prompt"
        setattr(row, field, "changed")
        with pytest.raises(ImmutableContentError):
            row.save()
        with pytest.raises(ImmutableContentError):
            row.delete()
        with pytest.raises(ImmutableContentError):
            model.objects.filter(pk=row.pk).update(**{field: "changed"})
        with pytest.raises(ImmutableContentError):
            model.objects.filter(pk=row.pk).delete()
        row.refresh_from_db()
        assert getattr(row, field) != "changed"

    def test_new_rows_cannot_be_added_to_a_published_version(self, published):
        section = published.sections.first()
        with pytest.raises(ImmutableContentError):
            Item.objects.create(
                version=published,
                section=section,
                key="sneaky",
                position=99,
                prompt="?",
                kind="short_text",
            )

    def test_a_draft_version_can_be_edited(self):
        draft = make_version(publish=False)
        item = draft.items.first()
        item.prompt = "Reworded"
        item.save()
        assert Item.objects.get(pk=item.pk).prompt == "Reworded"

    def test_admin_shows_published_content_read_only(self, published, admin_client):
        item = published.items.first()
        page = admin_client.get(f"/admin/checklists/item/{item.pk}/change/")
        assert page.status_code == 200
        assert b'name="prompt"' not in page.content  # rendered as text, not an input
        assert (
            admin_client.post(
                f"/admin/checklists/item/{item.pk}/delete/", {"post": "yes"}
            ).status_code
            == 403
        )
        assert Item.objects.filter(pk=item.pk).exists()


def load_file_data():
    return json.loads((files.CONTENT_DIR / "default_checklist.json").read_text())


class TestDefaultChecklist:
    def test_five_sections_in_the_designed_order_with_at_least_30_items(self):
        data = load_file_data()
        assert [s["key"] for s in data["sections"]] == SECTION_ORDER
        assert sum(len(s["items"]) for s in data["sections"]) >= 30

    def test_every_caution_of_the_source_documents_has_an_item(self):
        covered = {
            tag
            for s in load_file_data()["sections"]
            for i in s["items"]
            for tag in i.get("cautions", [])
        }
        assert CAUTION_TAGS - covered == set()

    def test_every_item_cites_a_known_source(self):
        sources = {s["key"] for s in json.loads((files.CONTENT_DIR / "sources.json").read_text())}
        for section in load_file_data()["sections"]:
            for item in section["items"]:
                assert item["citations"], item["key"]
                for citation in item["citations"]:
                    assert citation["source"] in sources, (item["key"], citation["source"])

    def test_both_source_documents_are_cited(self):
        cited = {
            c["source"]
            for s in load_file_data()["sections"]
            for i in s["items"]
            for c in i["citations"]
        }
        assert {"seed-pain-sleep", "seed-addiction-recovery"} <= cited

    def test_melatonin_product_questions_show_only_when_melatonin_is_used(self):
        items = {i["key"]: i for s in load_file_data()["sections"] for i in s["items"]}
        condition = {"item": "substances_in_use", "op": "includes", "value": "melatonin"}
        assert items["melatonin_content_verified"]["show_when"] == condition
        assert items["follow_up_date"]["kind"] == "date"


class TestLoadDefaultContent:
    def test_loads_published_and_a_second_run_changes_nothing(self):
        call_command("load_default_content")
        version = TemplateVersion.objects.get(template__slug=INTAKE)
        assert version.status == "published" and len(version.content_hash) == 64
        counts = (Source.objects.count(), Item.objects.count(), Citation.objects.count())
        call_command("load_default_content")
        # One version each: the intake and the follow-up review (issue 20).
        assert TemplateVersion.objects.count() == 2
        assert (Source.objects.count(), Item.objects.count(), Citation.objects.count()) == counts
        assert Item.objects.count() >= 30

    def test_a_changed_file_becomes_a_new_draft(self):
        call_command("load_default_content")
        data = load_file_data()
        data["sections"][0]["items"][0]["prompt"] = "A reworded first question?"
        version, created = loaders.load_template(data)
        assert created and version.number == 2 and version.status == "draft"
        first = TemplateVersion.objects.get(number=1, template__slug=INTAKE)
        assert first.status == "published"
        assert (
            first.items.get(key=data["sections"][0]["items"][0]["key"]).prompt
            != "A reworded first question?"
        )
        # Loading the same changed content again stores nothing new.
        assert loaders.load_template(data) == (version, False)

    @pytest.mark.parametrize(
        "mutate,message",
        [
            (
                lambda d: d["sections"][1]["items"].append(dict(d["sections"][0]["items"][0])),
                "key repeats",
            ),
            (lambda d: d["sections"][0]["items"][0].update(citations=[]), "cites no source"),
            (lambda d: d["sections"][0]["items"][0].update(kind="essay"), "unknown kind"),
            (
                lambda d: d["sections"][0]["items"][0].update(
                    show_when={"item": "follow_up_date", "op": "answered"}
                ),
                "missing or later item",
            ),
            (
                lambda d: d["sections"][0]["items"][0]["citations"][0].update(source="nowhere"),
                "unknown source",
            ),
            (lambda d: d.pop("sections"), "missing top-level key"),
        ],
    )
    def test_a_malformed_file_is_refused_whole(self, mutate, message):
        call_command("load_default_content")
        data = load_file_data()
        mutate(data)
        with pytest.raises(files.ContentError, match=message):
            loaders.load_template(data)
        assert TemplateVersion.objects.filter(template__slug=INTAKE).count() == 1

    def test_roles_are_created(self):
        call_command("load_default_content")
        from django.contrib.auth.models import Group

        assert set(Group.objects.values_list("name", flat=True)) >= {
            "Clinicians",
            "Content editors",
            "Auditors",
            "Supervisors",
        }

    def test_template_canonical_url(self):
        call_command("load_default_content")
        assert ChecklistTemplate.objects.get(slug=INTAKE).canonical_url.startswith("https://")


def file_items():
    """The default checklist's items in checklist order, as the condition functions read
    them (an object with key, show_when, caution and an id)."""
    from types import SimpleNamespace

    return [
        SimpleNamespace(id=n, **{k: i.get(k) for k in ("key", "show_when", "caution", "prompt")})
        for n, i in enumerate(i for s in load_file_data()["sections"] for i in s["items"])
    ]


def caution_codes(answers):
    from checklists.screening.rules.items import item_caution_flags

    return {f.code for f in item_caution_flags(file_items(), answers, {})}


class TestHarmReductionWording:
    """Issue 17 point 7: dosing advice only for use despite advice, nothing that reassures."""

    def test_no_start_low_question_or_caution_when_the_patient_will_not_use(self):
        from checklists.conditions import visible_keys

        answers = {"use_after_advice": "will_not_use", "start_low_plan": "no"}
        assert "start_low_plan" not in visible_keys(file_items(), answers)
        assert "item:start_low_plan" not in caution_codes(answers)
        for intention in ("uses_as_prescribed", "no_advice_against"):
            assert "item:start_low_plan" not in caution_codes(
                {"use_after_advice": intention, "start_low_plan": "no"}
            )

    def test_harm_reduction_advice_is_asked_for_when_the_patient_will_use_despite_advice(self):
        answers = {"use_after_advice": "will_use_despite_advice", "start_low_plan": "no"}
        assert "item:start_low_plan" in caution_codes(answers)
        assert "item:start_low_plan" not in caution_codes({**answers, "start_low_plan": "yes"})

    def test_the_advice_options_include_advising_against_use_and_the_missing_evidence(self):
        items = {i["key"]: i for s in load_file_data()["sections"] for i in s["items"]}
        codes = [o["code"] for o in items["advice_given"]["options"]]
        assert {"advised_not_to_use", "no_evidence_for_combination"} <= set(codes)
        assert "start_low" not in codes  # dosing advice only as harm reduction
        assert "despite advice" in next(
            o["label"]
            for o in items["advice_given"]["options"]
            if o["code"] == "harm_reduction_dosing"
        )

    @pytest.mark.parametrize(
        "phrase",
        [
            "unless the prescriber agrees",
            "no routine change",
            "not expected to",
            "lowest effective dose",
            "agree a low dose",
            "before kratom is used",
            "start-low plan been agreed",
            "advise buying only",
        ],
    )
    def test_no_text_reads_as_reassurance(self, phrase):
        for section in load_file_data()["sections"]:
            for item in section["items"]:
                caution = item.get("caution") or {}
                texts = [item["prompt"], item.get("help_text", ""), *caution.values()]
                texts += [o["label"] for o in item.get("options") or []]
                assert not any(phrase in str(text).lower() for text in texts), (item["key"], phrase)


NEW_CAUTIONS = {
    # item key: (severity, problem)
    "kratom_serotonergic_medicines": ("moderate", "serotonin-toxicity"),
    "combination_expected_benefit": ("moderate", "cns-depression"),
    "kratom_adverse_effects": ("moderate", "individual-response"),
    "melatonin_adverse_effects": ("minor", "individual-response"),
    "sleep_apnoea_signs": ("moderate", "care-plan"),
}


class TestTheSourceDocumentsCautionsAreCovered:
    @pytest.fixture
    def items(self):
        return {i["key"]: i for s in load_file_data()["sections"] for i in s["items"]}

    @pytest.mark.parametrize("key", sorted(NEW_CAUTIONS))
    def test_each_new_caution_is_a_sourced_statement_with_a_known_problem(self, items, key):
        problems = {
            p["key"] for p in files.read_json(files.CONTENT_DIR / "knowledge" / "problems.json")
        }
        sources = {s["key"] for s in files.read_json(files.CONTENT_DIR / "sources.json")}
        item = items[key]
        caution = item["caution"]
        assert (caution["severity"], caution["problem"]) == NEW_CAUTIONS[key]
        assert caution["problem"] in problems
        assert not caution["title"].rstrip().endswith("?")
        assert all(c["source"] in sources and c["locator"] for c in item["citations"])
        assert item["reviewed_on"] == "2026-11-30" and item["review_by"] > item["reviewed_on"]

    def test_the_sleep_apnoea_screen_shows_when_poor_sleep_is_a_reason(self):
        from checklists.conditions import visible_keys

        assert "sleep_apnoea_signs" in visible_keys(file_items(), {"sleep_problem_reason": "yes"})
        assert "sleep_apnoea_signs" in visible_keys(
            file_items(), {"sleep_problem_reason": "unknown"}
        )
        assert "sleep_apnoea_signs" not in visible_keys(
            file_items(), {"sleep_problem_reason": "no"}
        )

    def test_effects_since_starting_are_asked_of_current_users_only(self):
        from checklists.conditions import visible_keys

        using = visible_keys(file_items(), {"substances_in_use": ["kratom", "melatonin"]})
        assert {"kratom_adverse_effects", "melatonin_adverse_effects"} <= using
        thinking = visible_keys(
            file_items(), {"substances_in_use": ["considering_kratom", "considering_melatonin"]}
        )
        assert not {"kratom_adverse_effects", "melatonin_adverse_effects"} & thinking

    def test_the_serotonergic_question_is_answered_by_the_medicine_list(self, items):
        screening = items["kratom_serotonergic_medicines"]["screening"]
        assert screening == {"role": "medicine_question", "classes": ["serotonergic-drugs"]}


def _content_rows():
    """Every reviewed row of the default content: (where, row, its source keys)."""
    data = files.read_json(files.CONTENT_DIR / "default_checklist.json")
    for section in data["sections"]:
        for item in section["items"]:
            yield f"item {item['key']}", item, [c["source"] for c in item["citations"]]
    for relative in [
        "knowledge/interactions.json",
        "knowledge/variability.json",
        "knowledge/combinations.json",
        "knowledge/problems.json",
        "legal/statuses.json",
        "lab/limits.json",
    ]:
        for row in files.read_json(files.CONTENT_DIR / relative):
            name = row.get("code") or row.get("key") or row.get("analyte") or row["jurisdiction"]
            yield f"{relative} {name}", row, row["sources"]


def test_every_content_row_cites_a_known_source_and_has_a_review_by_date():
    """Issue 17, done when: every content row with a source and a review-by date, so the
    overdue page can name it when it falls due."""
    known = {s["key"] for s in files.read_json(files.CONTENT_DIR / "sources.json")}
    rows = list(_content_rows())
    assert len(rows) > 250
    for where, row, sources in rows:
        assert sources and set(sources) <= known, where
        assert row.get("review_by"), f"{where}: no review_by date"
