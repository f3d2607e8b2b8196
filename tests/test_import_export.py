"""export_content / import_content: the exact JSON round trip, FHIR, malformed files."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from fhir.resources.R4B.questionnaire import Questionnaire

from checklists.authoring import bundle, files, questionnaire
from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.models import (
    AuditEvent,
    ChecklistTemplate,
    Item,
    Section,
    Source,
    TemplateVersion,
)

from .factories import make_version

pytestmark = pytest.mark.django_db


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_content", *args, stdout=out)
    return out.getvalue()


def import_file(tmp_path, text: str, name="content.json") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_content", str(path), stdout=out)
    return out.getvalue()


def empty_the_content() -> None:
    """What an empty database holds: no checklist content, no sources."""
    TemplateVersion.objects.update(status=TemplateVersion.Status.DRAFT)
    TemplateVersion.objects.all().delete()
    ChecklistTemplate.objects.all().delete()
    Source.objects.all().delete()


def snapshot() -> tuple:
    return (
        list(TemplateVersion.objects.values_list("template__slug", "number", "status")),
        Item.objects.count(),
        sorted(Source.objects.values_list("key", "title")),
    )


class TestJsonRoundTrip:
    def test_export_import_into_an_empty_database_export_gives_the_same_bytes(self, tmp_path):
        call_command("load_default_content", stdout=io.StringIO())
        first = export()
        empty_the_content()
        assert not Item.objects.exists() and not Source.objects.exists()
        assert "stored version 1 (published)" in import_file(tmp_path, first)
        second = export()
        assert second.encode("utf-8") == first.encode("utf-8")

    def test_the_round_trip_keeps_review_dates_and_the_content_hash(self, tmp_path):
        call_command("load_default_content", stdout=io.StringIO())
        stored = TemplateVersion.objects.get(template__slug=INTAKE)
        dates = sorted(Item.objects.values_list("key", "reviewed_on", "review_by"))
        text = export()
        empty_the_content()
        import_file(tmp_path, text)
        assert (
            TemplateVersion.objects.get(template__slug=INTAKE).content_hash == stored.content_hash
        )
        assert sorted(Item.objects.values_list("key", "reviewed_on", "review_by")) == dates

    def test_only_cited_sources_and_a_chosen_template(self):
        make_version()
        data = json.loads(export("--template", "kratom-melatonin-intake"))
        assert data["format"] == bundle.BUNDLE_FORMAT
        assert [s["key"] for s in data["sources"]] == ["seed-pain-sleep"]
        assert len(data["checklists"]) == 1
        with pytest.raises(CommandError, match="No template"):
            export("--template", "nope")

    def test_importing_over_an_existing_template_creates_a_draft(self, tmp_path):
        call_command("load_default_content", stdout=io.StringIO())
        data = json.loads(export("--template", INTAKE))
        data["checklists"][0]["sections"][0]["items"][0]["prompt"] = "A reworded first question?"
        printed = import_file(tmp_path, json.dumps(data))
        assert "stored version 2 (draft)" in printed
        intake = TemplateVersion.objects.filter(template__slug=INTAKE)
        assert intake.get(number=1).status == "published"
        assert intake.get(number=2).status == "draft"
        assert AuditEvent.objects.filter(action="content_imported").exists()
        # The same file again stores nothing new.
        assert "unchanged (matches version 2)" in import_file(tmp_path, json.dumps(data))

    def test_the_default_checklist_file_imports_too(self, tmp_path):
        call_command("load_default_content", stdout=io.StringIO())
        text = (files.CONTENT_DIR / "default_checklist.json").read_text()
        assert "unchanged (matches version 1)" in import_file(tmp_path, text)


class TestMalformedFiles:
    @pytest.fixture
    def exported(self):
        call_command("load_default_content", stdout=io.StringIO())
        return json.loads(export())

    def refused(self, tmp_path, text: str, message: str) -> None:
        before = snapshot()
        with pytest.raises(CommandError, match=message):
            import_file(tmp_path, text)
        assert snapshot() == before

    def test_invalid_json_names_the_line(self, tmp_path, exported):
        text = json.dumps(exported, indent=2).replace('"sources": [', '"sources": [,', 1)
        self.refused(tmp_path, text, r"not valid JSON at line 4")

    @pytest.mark.parametrize(
        "mutate,message",
        [
            (lambda d: d["checklists"][0]["sections"][1]["items"][2].pop("prompt"),
             r"sections\[1\]\.items\[2\]: missing 'prompt'"),
            (lambda d: d["checklists"][0]["sections"][0]["items"][0].update(required="yes"),
             r"'required' must be true or false"),
            (lambda d: d["checklists"][0]["sections"][0]["items"][1].update(kind="essay"),
             r"unknown kind 'essay'"),
            (lambda d: d["checklists"][0]["sections"][0]["items"][0]["options"].append(
                {"code": "kratom", "label": "again"}), r"option codes repeat"),
            (lambda d: d["checklists"][0]["sections"][0]["items"][0].update(reviewed_on="soon"),
             r"'reviewed_on' must be an ISO date"),
            (lambda d: d["sources"][0].update(kind="blog"), r"sources\[0\]: unknown kind"),
            (lambda d: d["checklists"][0]["sections"][0]["items"][0]["citations"][0].update(
                source="nowhere"), r"unknown source 'nowhere'"),
            (lambda d: d.update(format="something-else"), r"'format' must be"),
            (lambda d: d["checklists"][0].update(sections={}), r"'sections' must be a list"),
        ],
    )  # fmt: skip
    def test_refused_whole_naming_the_key(self, tmp_path, exported, mutate, message):
        mutate(exported)
        self.refused(tmp_path, json.dumps(exported), message)

    def test_a_bad_second_checklist_leaves_the_first_and_the_sources_unwritten(
        self, tmp_path, exported
    ):
        second = json.loads(json.dumps(exported["checklists"][0]))
        second["template"]["slug"] = "second-checklist"
        second["sections"][0]["items"][0]["kind"] = "essay"
        first = exported["checklists"][0]
        first["template"]["slug"] = "first-checklist"
        exported["checklists"] = [first, second]
        exported["sources"][0]["title"] = "A retitled source"
        self.refused(tmp_path, json.dumps(exported), r"checklists\[1\]")
        assert not ChecklistTemplate.objects.filter(slug="first-checklist").exists()
        assert not Source.objects.filter(title="A retitled source").exists()

    def test_a_missing_file(self):
        with pytest.raises(CommandError, match="Cannot read"):
            call_command("import_content", "/no/such/file.json")


class TestFhirQuestionnaire:
    @pytest.fixture
    def resource(self):
        call_command("load_default_content", stdout=io.StringIO())
        return json.loads(export("--format", "fhir", "--template", INTAKE))

    def test_valid_for_fhir_resources_r4b_and_the_value_sets(self, resource):
        parsed = Questionnaire.model_validate(resource)
        assert parsed.url == ChecklistTemplate.objects.get(slug=INTAKE).canonical_url
        assert parsed.version == "1" and parsed.status == "active"
        assert questionnaire.questionnaire_problems(resource) == []

    def test_items_are_nested_by_section(self, resource):
        version = TemplateVersion.objects.get(template__slug=INTAKE)
        assert [g["linkId"] for g in resource["item"]] == list(
            Section.objects.filter(version=version)
            .order_by("position")
            .values_list("key", flat=True)
        )
        assert {g["type"] for g in resource["item"]} == {"group"}
        keys = [
            child["linkId"]
            for group in resource["item"]
            for child in group["item"]
            if child["type"] != "display"
        ]
        assert keys == list(
            Item.objects.filter(version=version)
            .order_by("section__position", "position")
            .values_list("key", flat=True)
        )

    def test_show_when_becomes_enable_when_and_options_keep_their_codes(self, resource):
        items = {i["linkId"]: i for g in resource["item"] for i in g["item"]}
        combined = items["kratom_melatonin_combined"]["enableWhen"]
        assert combined == [
            {"question": "substances_in_use", "operator": "exists", "answerBoolean": True}
        ]
        form = items["melatonin_form"]
        assert form["enableWhen"][0]["operator"] == "="
        assert form["enableWhen"][0]["answerCoding"]["code"] == "melatonin"
        assert form["enableWhen"][0]["answerCoding"]["system"].endswith(
            "/options/substances_in_use"
        )
        substances = items["substances_in_use"]
        assert substances["type"] == "choice" and substances["repeats"] is True
        codes = [o["valueCoding"]["code"] for o in substances["answerOption"]]
        item = Item.objects.get(key="substances_in_use", version__template__slug=INTAKE)
        assert codes == [o["code"] for o in item.options]
        yes_no = next(i for i in items.values() if i.get("answerOption") and "repeats" not in i)
        assert yes_no["type"] == "choice"

    def test_the_value_set_check_catches_what_the_library_lets_through(self, resource):
        resource["status"] = "published"
        resource["item"][0]["item"][1]["type"] = "multiple-choice"
        resource["item"][0]["item"][2]["enableWhen"] = [
            {"question": "substances_in_use", "operator": "includes", "answerBoolean": True},
            {"question": "substances_in_use", "operator": "exists", "answerBoolean": True},
        ]
        Questionnaire.model_validate(resource)  # the library itself accepts all of this
        problems = questionnaire.questionnaire_problems(resource)
        assert any("publication status" in p for p in problems)
        assert any("'multiple-choice' is not an item type" in p for p in problems)
        assert any("enableWhen operator 'includes'" in p for p in problems)
        assert any("que-12" in p for p in problems)
        with pytest.raises(questionnaire.InvalidQuestionnaire):
            questionnaire.validated(resource)

    def test_several_templates_make_a_bundle(self):
        make_version()
        make_version(slug="second-template")
        bundle = json.loads(export("--format", "fhir"))
        assert bundle["resourceType"] == "Bundle" and len(bundle["entry"]) == 2
