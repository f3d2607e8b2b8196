"""A draft on an older version: the notice, the diff, and the restart on the current one."""

import pytest
from django.urls import reverse

from checklists.authoring import in_words
from checklists.authoring.diff import diff_versions
from checklists.authoring.workflow import approve_and_publish, new_draft_from, submit_for_review
from checklists.cases.restart import NothingToRestart, restart_response_on_current
from checklists.models import Answer, AuditEvent, ChecklistResponse, Citation, Item

from .conftest import login
from .factories import FOLLOW_UP_DATE, fill, make_response, make_version

pytestmark = pytest.mark.django_db


def publish_v2(v1, editor, second_editor, change):
    """A second version made through the workflow, after `change(draft)`."""
    draft = new_draft_from(version=v1, user=editor)
    change(draft)
    submit_for_review(version=draft, user=editor, summary="Clearer wording.")
    return approve_and_publish(version=draft, user=second_editor, reviewed=True)


def rework(draft):
    """v2: melatonin is no longer an option, age becomes text, a question is added,
    another is reworded and made optional, and the pregnancy caution is stronger."""
    substances = draft.items.get(key="substances_in_use")
    substances.options = [{"code": "kratom", "label": "Kratom"}]
    substances.save()
    age = draft.items.get(key="age_years")
    age.kind = "short_text"
    age.save()
    pregnant = draft.items.get(key="pregnant")
    pregnant.prompt = "Is the patient pregnant or planning a pregnancy?"
    pregnant.caution = {
        "when": ["yes", "unknown"],
        "severity": "contraindicated",
        "title": "Pregnancy reported or not ruled out",
        "advice": "Avoid.",
    }
    pregnant.save()
    notes = draft.items.get(key="clinician_notes")
    notes.required = True
    notes.save()
    section = draft.sections.get(key="plan_and_monitoring")
    item = Item.objects.create(
        version=draft,
        section=section,
        key="who_to_call",
        position=9,
        prompt="Who should the patient call with concerns?",
        kind="short_text",
    )
    Citation.objects.create(item=item, source=Citation.objects.first().source)
    Item.objects.filter(version=draft, key="product_in_use").delete()


@pytest.fixture
def v1(db):
    return make_version()


@pytest.fixture
def old_draft(v1, case, clinician):
    response = make_response(case, clinician)
    fill(response, clinician)
    return response


@pytest.fixture
def v2(v1, old_draft, editor, second_editor):
    return publish_v2(v1, editor, second_editor, rework)


class TestDiff:
    def test_items_added_removed_and_changed_in_words(self, v1, v2):
        diff = diff_versions(v1, v2)
        assert [i.key for i in diff.added] == ["who_to_call"]
        assert [i.key for i in diff.removed] == ["product_in_use"]
        changes = {c.key: [(x.what, x.before, x.after) for x in c.changes] for c in diff.changed}
        assert changes == {
            "substances_in_use": [("Option removed", "Melatonin (melatonin)", "")],
            "pregnant": [
                (
                    "Question",
                    "Question pregnant?",
                    "Is the patient pregnant or planning a pregnancy?",
                ),
                (
                    "Caution",
                    "When the answer is Yes: Major, “Pregnancy reported”. "
                    "Advice: Advise against use in pregnancy.",
                    "When the answer is Yes, Unknown: Contraindicated, "
                    "“Pregnancy reported or not ruled out”. Advice: Avoid.",
                ),
            ],
            "age_years": [("Kind", "Number", "Short text")],
            "clinician_notes": [("Required", "Optional", "Required")],
        }

    def test_conditions_are_described_with_prompts_and_labels(self, v1, editor):
        draft = new_draft_from(version=v1, user=editor)
        item = draft.items.get(key="combined_use")
        item.show_when = {"item": "substances_in_use", "op": "in", "value": ["kratom", "melatonin"]}
        item.save()
        change = diff_versions(v1, draft).changed[0].changes[0]
        assert change.what == "Shown when"
        assert change.before == (
            "Answer only if the answer to “Question substances_in_use?” includes Melatonin."
        )
        assert change.after == (
            "Answer only if the answer to “Question substances_in_use?” includes Kratom or "
            "Melatonin."
        )

    def test_everything_an_item_does_is_compared_in_the_words_of_its_page(self, v1, editor):
        """The second editor approves what the diff lists: a caution's title alone, the
        screening, the source-document cautions and the sources are each a change."""
        draft = new_draft_from(version=v1, user=editor)
        pregnant = draft.items.get(key="pregnant")
        pregnant.caution = {**pregnant.caution, "title": "Pregnant or planning a pregnancy"}
        pregnant.screening = {"role": "factors", "map": {"yes": "pregnant", "unknown": "pregnant"}}
        pregnant.caution_tags = ["pregnancy"]
        pregnant.save()
        Citation.objects.filter(item=pregnant).update(locator="Section: pregnancy")
        changes = {c.what: (c.before, c.after) for c in diff_versions(v1, draft).changed[0].changes}
        assert changes["Caution"] == (
            in_words.caution_in_words(v1.items.get(key="pregnant")),
            "When the answer is Yes: Major, “Pregnant or planning a pregnancy”. "
            "Advice: Advise against use in pregnancy.",
        )
        assert changes["Screening"] == (
            "Patient factors (answer codes mapped to factors); yes → pregnant",
            "Patient factors (answer codes mapped to factors); yes → pregnant, unknown → pregnant",
        )
        assert changes["Source-document cautions"] == ("None", "pregnancy")
        source = pregnant.citations.get().source
        assert changes["Sources"] == (
            f"{source} — Section: safe practices",
            f"{source} — Section: pregnancy",
        )
        assert len(changes) == 4

    def test_no_difference(self, v1, editor):
        assert diff_versions(v1, new_draft_from(version=v1, user=editor)).is_empty


class TestNotice:
    def test_pages_say_which_version_the_draft_is_on(self, client, old_draft, v2, clinician):
        login(client, clinician)
        for url in (
            reverse("response_detail", args=[old_draft.pk]),
            reverse("section", args=[old_draft.pk, "individual_variability"]),
            reverse("review", args=[old_draft.pk]),
        ):
            page = client.get(url).content.decode()
            assert "Answered against v1; current is v2." in page, url
            assert reverse("response_changes", args=[old_draft.pk]) in page

    def test_a_draft_on_the_current_version_has_no_notice(self, client, v1, old_draft, clinician):
        login(client, clinician)
        page = client.get(reverse("response_detail", args=[old_draft.pk]))
        assert b"Answered against" not in page.content

    def test_the_changes_page_shows_the_diff_to_team_members_only(
        self, client, old_draft, v2, colleague, outsider
    ):
        url = reverse("response_changes", args=[old_draft.pk])
        assert client.get(url).status_code == 302
        login(client, outsider)
        assert client.get(url).status_code == 404
        login(client, colleague)
        page = client.get(url).content.decode()
        assert "Is the patient pregnant or planning a pregnancy?" in page
        assert "Who should the patient call with concerns?" in page


class TestRestart:
    def test_carries_answers_whose_keys_and_codes_still_exist(self, old_draft, v2, clinician):
        result = restart_response_on_current(
            response=old_draft, user=clinician, lock_version=old_draft.lock_version
        )
        new = result.response
        assert new.version == v2 and new.restarted_from == old_draft and new.is_draft
        answers = {a.item.key: a.value for a in new.answers.select_related("item")}
        assert answers == {
            "current_medications": [{"name": "oxycodone", "dose": "5 mg", "frequency": "BID"}],
            "pregnant": "no",
            "jurisdiction": "US-TX",
            "follow_up_date": FOLLOW_UP_DATE.isoformat(),
            "clinician_notes": "Start low.",
        }
        # melatonin was removed from the options, age changed kind; the two questions shown
        # only when melatonin is chosen are hidden on the new version.
        assert result.dropped == [
            "age_years",
            "combined_use",
            "melatonin_label_checked",
            "substances_in_use",
        ]
        assert all(a.updated_by == clinician for a in new.answers.all())

    def test_the_old_draft_is_kept_read_only(self, old_draft, v2, clinician):
        before = list(old_draft.answers.values_list("item_id", "value"))
        restart_response_on_current(
            response=old_draft, user=clinician, lock_version=old_draft.lock_version
        )
        old_draft.refresh_from_db()
        assert old_draft.status == ChecklistResponse.Status.RESTARTED
        assert list(old_draft.answers.values_list("item_id", "value")) == before
        event = AuditEvent.objects.get(action=AuditEvent.Action.CHECKLIST_RESTARTED)
        assert event.detail["from_version"] == 1 and event.detail["to_version"] == 2
        assert event.case_id == old_draft.case_id

    def test_through_the_page(self, client, old_draft, v2, clinician):
        login(client, clinician)
        url = reverse("response_restart", args=[old_draft.pk])
        assert client.get(url).status_code == 405
        answer = client.post(url, {"lock_version": old_draft.lock_version})
        new = ChecklistResponse.objects.get(restarted_from=old_draft)
        assert answer.url == reverse("response_detail", args=[new.pk])
        page = client.get(answer.url).content.decode()
        assert "Restarted on version 2: 5 answer(s) carried over." in page
        assert "Question substances_in_use?" in page  # listed to answer again
        # The old draft now refuses writes and points to the new one.
        page = client.get(reverse("response_detail", args=[old_draft.pk])).content.decode()
        assert "restarted on a newer version" in page
        assert client.post(url, {"lock_version": old_draft.lock_version + 1}).status_code == 409

    def test_a_stale_page_restarts_nothing(self, client, old_draft, v2, clinician):
        login(client, clinician)
        client.post(
            reverse("response_restart", args=[old_draft.pk]),
            {"lock_version": old_draft.lock_version - 1},
        )
        assert not ChecklistResponse.objects.filter(restarted_from=old_draft).exists()
        old_draft.refresh_from_db()
        assert old_draft.is_draft

    def test_outsiders_and_non_clinicians_cannot_restart(
        self, client, old_draft, v2, outsider, editor
    ):
        url = reverse("response_restart", args=[old_draft.pk])
        for user in (outsider, editor):  # neither is on the case's team
            login(client, user)
            assert client.post(url, {"lock_version": old_draft.lock_version}).status_code == 404
        assert not ChecklistResponse.objects.filter(restarted_from=old_draft).exists()

    def test_nothing_to_restart_on_the_current_version(self, old_draft, clinician):
        with pytest.raises(NothingToRestart):
            restart_response_on_current(
                response=old_draft, user=clinician, lock_version=old_draft.lock_version
            )
        assert Answer.objects.filter(response=old_draft).count() > 0
