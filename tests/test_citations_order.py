"""An item's sources: clinical and regulatory evidence first, the web articles the checklist
was drawn from last and labelled "source document", all folded behind "Sources (n)"
(issue 18, "a quiet page")."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.cases.readmodel import in_evidence_order, load_state
from checklists.models import Citation, Item, Source, TemplateVersion

from .factories import fill, make_case, make_response, make_source, make_version


def _cited(*kinds: str) -> list[Citation]:
    """Unsaved citations of sources of these kinds, titled after their position."""
    citations = []
    for n, kind in enumerate(kinds):
        citation = Citation(pk=n + 1, locator="")
        citation.source = Source(key=f"s{n}", title=f"{kind} {n}", kind=kind)
        citations.append(citation)
    return citations


def _kinds(citations) -> list[str]:
    return [c.source.kind for c in citations]


class TestEvidenceOrder:
    def test_a_source_document_cited_first_goes_last(self):
        ordered = in_evidence_order(_cited("source_document", "label", "observational"))
        assert _kinds(ordered) == ["label", "observational", "source_document"]

    def test_labels_regulators_and_law_come_before_studies_and_expert_opinion(self):
        kinds = ["expert", "case_report", "study", "review", "law", "regulatory", "label"]
        assert _kinds(in_evidence_order(_cited(*kinds))) == list(reversed(kinds))

    def test_news_comes_after_clinical_evidence_and_before_source_documents(self):
        ordered = in_evidence_order(_cited("source_document", "news", "expert"))
        assert _kinds(ordered) == ["expert", "news", "source_document"]

    def test_sources_of_one_kind_keep_the_order_the_checklist_gives(self):
        ordered = in_evidence_order(_cited("source_document", "study", "source_document", "study"))
        assert [c.source.title for c in ordered] == [
            "study 1",
            "study 3",
            "source_document 0",
            "source_document 2",
        ]

    def test_a_kind_the_order_does_not_know_is_never_first(self):
        ordered = in_evidence_order(_cited("unclassified", "expert"))
        assert _kinds(ordered) == ["expert", "unclassified"]

    def test_every_kind_of_source_has_a_place_in_the_order(self):
        assert set(Source.EVIDENCE_ORDER) == set(Source.Kind.values)
        assert Source.EVIDENCE_ORDER[-1] == Source.Kind.SOURCE_DOCUMENT


def _item_block(body: str, key: str) -> str:
    start = body.index(f'id="item-{key}"')
    end = body.find('class="item mb-4"', start)
    return body[start : end if end != -1 else len(body)]


@pytest.mark.django_db
class TestTheDefaultChecklist:
    @pytest.fixture
    def body(self, clinician_client, team, clinician):
        call_command("load_default_content")
        response = make_response(make_case(team, clinician), clinician)
        url = reverse("section", args=[response.pk, "individual_variability"])
        return clinician_client.get(url).content.decode()

    def test_an_item_shows_its_sources_folded_and_counted(self, body):
        block = _item_block(body, "pregnancy_status")
        cited = Item.objects.get(
            key="pregnancy_status", version__template__slug=INTAKE
        ).citations.count()
        assert f"<summary>Sources ({cited})</summary>" in block
        assert "<details" in block and "<details open" not in block

    def test_the_first_source_of_a_pregnancy_question_is_not_a_source_document(self, body):
        kinds = set(
            Item.objects.get(
                key="pregnancy_status", version__template__slug=INTAKE
            ).citations.values_list("source__kind", flat=True)
        )
        assert "source_document" in kinds and len(kinds) > 1  # the case this test is about
        listed = re.findall(r"<li>(.*?)</li>", _item_block(body, "pregnancy_status"))
        assert "source document" not in listed[0]
        assert "source document" in listed[-1]

    def test_no_item_on_the_page_opens_with_a_source_document_when_it_cites_evidence(self, body):
        checked = 0
        for item in Item.objects.filter(section__key="individual_variability"):
            kinds = set(item.citations.values_list("source__kind", flat=True))
            # Items that show only after an answer elsewhere are not on a fresh draft's page.
            if kinds - {"source_document"} and f'id="item-{item.key}"' in body:
                listed = re.findall(r"<li>(.*?)</li>", _item_block(body, item.key))
                assert "source document" not in listed[0], item.key
                checked += 1
        assert checked >= 10


@pytest.mark.django_db
def test_a_caution_and_its_print_list_the_label_before_the_source_document(
    clinician_client, team, clinician
):
    version = make_version(publish=False)
    label = Source.objects.create(key="test-label", title="Melatonin SmPC", kind="label")
    Citation.objects.create(item=version.items.get(key="pregnant"), source=label)
    version.status = TemplateVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save()
    response = make_response(make_case(team, clinician), clinician)
    fill(response, clinician, {"individual_variability": {"pregnant": "yes"}})

    caution = next(
        f for f in load_state(response).ensure_flags() if f.title == "Pregnancy reported"
    )
    assert caution.sources == ("Melatonin SmPC", str(make_source()))
    printed = clinician_client.get(reverse("export_print", args=[response.pk])).content.decode()
    assert f"Sources: Melatonin SmPC; {make_source()}" in printed
