"""Content editing for clinical editors (issue 21): the item form's structured fields, the
preview, the change summary and the deliberate approval, through the admin's pages."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from checklists.authoring.files import version_data
from checklists.authoring.workflow import WorkflowRefused, new_draft_from, submit_for_review
from checklists.models import AuditEvent, Item, LabLimit, Problem, TemplateVersion

from .conftest import HttpsClient, login
from .factories import fill, make_case, make_response, make_user, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(db):
    return make_version()


@pytest.fixture
def draft(published, editor):
    return new_draft_from(version=published, user=editor)


def item_url(item) -> str:
    return reverse("admin:checklists_item_change", args=[item.pk])


def item_form(client, item) -> dict:
    """What the item's change page posts back unchanged (rows as name-i-column inputs)."""
    page = client.get(item_url(item))
    form = page.context["adminform"].form
    data: dict = {}
    for name in form.fields:
        value = form[name].value()
        if name in ("options_rows", "screening_map"):
            for index, row in enumerate(value or []):
                for column, text in row.items():
                    data[f"{name}-{index}-{column}"] = text
        elif isinstance(value, list):
            data[name] = value
        elif value is True:
            data[name] = "on"
        elif value not in (None, False, ""):
            data[name] = str(value)
    citations = item.citations.all()
    data |= {
        "citations-TOTAL_FORMS": str(len(citations)),
        "citations-INITIAL_FORMS": str(len(citations)),
        "citations-MIN_NUM_FORMS": "0",
        "citations-MAX_NUM_FORMS": "1000",
    }
    for index, citation in enumerate(citations):
        data |= {
            f"citations-{index}-id": str(citation.pk),
            f"citations-{index}-item": str(item.pk),
            f"citations-{index}-source": str(citation.source_id),
            f"citations-{index}-locator": citation.locator,
        }
    return data


def save(client, item, **changes):
    """Post the item's page with `changes`; returns the response (302 when saved)."""
    return client.post(item_url(item), item_form(client, item) | changes)


def errors(answer) -> str:
    form = answer.context["adminform"].form
    return " ".join(str(e) for field in form.errors.values() for e in field)


def stored(item) -> Item:
    return Item.objects.get(pk=item.pk)


class TestTheItemFormHasNoJsonBoxes:
    def test_no_json_field_is_on_the_page(self, editor_client, draft):
        item = draft.items.get(key="substances_in_use")
        html = editor_client.get(item_url(item)).content.decode()
        for name in ("options", "show_when", "caution", "screening", "caution_tags"):
            assert f'name="{name}"' not in html
        assert 'name="options_rows-0-code"' in html and 'value="kratom"' in html
        assert "<textarea" in html and "data-count" in html  # prompt: multi-line, counted
        assert "Preview its section" in html

    def test_saving_unchanged_keeps_every_value(self, editor_client, draft):
        for key in ("substances_in_use", "combined_use", "pregnant"):
            item = draft.items.get(key=key)
            before = version_data(draft)
            assert save(editor_client, item).status_code == 302, key
            assert version_data(draft) == before, key


class TestOptions:
    def test_an_option_added_as_a_row(self, editor_client, draft):
        item = draft.items.get(key="substances_in_use")
        answer = save(
            editor_client,
            item,
            **{"options_rows-2-code": "cbd", "options_rows-2-label": "Cannabidiol (CBD)"},
        )
        assert answer.status_code == 302
        assert stored(item).options[-1] == {"code": "cbd", "label": "Cannabidiol (CBD)"}

    def test_a_used_code_cannot_be_relabelled(self, editor_client, draft, team):
        user = make_user(teams=[team])
        fill(make_response(make_case(team, user), user), user)  # answered "kratom"
        item = draft.items.get(key="substances_in_use")
        answer = save(editor_client, item, **{"options_rows-0-label": "Kratom leaf only"})
        assert answer.status_code == 200
        assert "give the new meaning a new code" in errors(answer)
        assert stored(item).options[0]["label"] == "Kratom"

    def test_repeated_codes_and_options_on_a_yes_no_question_are_refused(
        self, editor_client, draft
    ):
        item = draft.items.get(key="substances_in_use")
        twice = {"options_rows-2-code": "kratom", "options_rows-2-label": "Again"}
        assert "its own code" in errors(save(editor_client, item, **twice))
        yes_no = draft.items.get(key="pregnant")
        extra = {"options_rows-0-code": "maybe", "options_rows-0-label": "Maybe"}
        assert "fixed ones" in errors(save(editor_client, yes_no, **extra))


class TestShowWhen:
    def test_only_earlier_items_are_offered(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        form = editor_client.get(item_url(item)).context["adminform"].form
        offered = [key for key, _ in form.fields["show_item"].choices if key]
        assert offered == ["substances_in_use", "current_medications", "combined_use"]
        first = draft.items.get(key="substances_in_use")
        form = editor_client.get(item_url(first)).context["adminform"].form
        assert [key for key, _ in form.fields["show_item"].choices if key] == []

    def test_is_on_a_yes_no_item_is_stored_as_equals(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        answer = save(
            editor_client,
            item,
            show_item="combined_use",
            show_op="is",
            show_values=["combined_use:yes"],
        )
        assert answer.status_code == 302
        assert stored(item).show_when == {"item": "combined_use", "op": "equals", "value": "yes"}

    def test_is_on_a_multiple_choice_item_is_stored_as_includes(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        save(
            editor_client,
            item,
            show_item="substances_in_use",
            show_op="is",
            show_values=["substances_in_use:kratom"],
        )
        assert stored(item).show_when == {
            "item": "substances_in_use",
            "op": "includes",
            "value": "kratom",
        }

    def test_is_one_of_and_is_not(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        save(
            editor_client,
            item,
            show_item="combined_use",
            show_op="in",
            show_values=["combined_use:yes", "combined_use:unknown"],
        )
        assert stored(item).show_when["value"] == ["yes", "unknown"]
        save(
            editor_client,
            item,
            show_item="combined_use",
            show_op="not",
            show_values=["combined_use:no"],
        )
        assert stored(item).show_when == {"item": "combined_use", "op": "not_equals", "value": "no"}

    @pytest.mark.parametrize(
        "changes,words",
        [
            (
                {
                    "show_item": "combined_use",
                    "show_op": "is",
                    "show_values": ["combined_use:yes", "combined_use:no"],
                },
                "compares with one answer",
            ),
            (
                {
                    "show_item": "combined_use",
                    "show_op": "is",
                    "show_values": ["substances_in_use:kratom"],
                },
                "Pick only answers of the question chosen above",
            ),
            ({"show_item": "combined_use", "show_op": ""}, "both the earlier question"),
            ({"show_item": "jurisdiction", "show_op": "answered"}, "not a question before this"),
        ],
    )
    def test_what_cannot_be_said_is_refused_with_the_reason(
        self, editor_client, draft, changes, words
    ):
        item = draft.items.get(key="pregnant")
        before = stored(item).show_when
        answer = save(editor_client, item, **changes)
        assert answer.status_code == 200 and words in errors(answer)
        assert stored(item).show_when == before

    def test_clearing_it_shows_the_question_always(self, editor_client, draft):
        item = draft.items.get(key="combined_use")
        answer = save(editor_client, item, show_item="", show_op="", show_values=[])
        assert answer.status_code == 302 and stored(item).show_when is None


class TestCaution:
    CAUTION = {
        "caution_when": ["yes", "unknown"],
        "caution_severity": "moderate",
        "caution_problem": "",
        "caution_title": "Combined use reported or not ruled out",
        "caution_advice": "Advise against taking them together.",
    }

    def test_a_caution_from_fields(self, editor_client, draft):
        item = draft.items.get(key="combined_use")
        assert save(editor_client, item, **self.CAUTION).status_code == 302
        assert stored(item).caution == {
            "when": ["yes", "unknown"],
            "severity": "moderate",
            "title": "Combined use reported or not ruled out",
            "advice": "Advise against taking them together.",
        }

    def test_a_caution_without_advice_or_with_a_question_is_refused(self, editor_client, draft):
        item = draft.items.get(key="combined_use")
        answer = save(editor_client, item, **(self.CAUTION | {"caution_advice": ""}))
        assert "A caution needs the advice." in errors(answer)
        answer = save(editor_client, item, **(self.CAUTION | {"caution_title": "Combined?"}))
        assert "state the problem instead" in " ".join(
            answer.context["adminform"].form.non_field_errors()
        )
        assert stored(item).caution is None

    def test_only_the_items_own_answers_may_raise_it(self, editor_client, draft):
        item = draft.items.get(key="combined_use")
        answer = save(editor_client, item, **(self.CAUTION | {"caution_when": ["kratom"]}))
        assert "“kratom” is not one of this question's answers" in errors(answer)


class TestScreeningAndTags:
    def test_role_from_the_catalogue_and_a_mapped_answer(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        answer = save(
            editor_client,
            item,
            screening_role="factors",
            **{"screening_map-0-code": "yes", "screening_map-0-target": "pregnant"},
        )
        assert answer.status_code == 302
        assert stored(item).screening == {"role": "factors", "map": {"yes": "pregnant"}}

    def test_an_unknown_role_or_factor_is_refused(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        before = stored(item).screening
        assert "Select a valid choice" in errors(save(editor_client, item, screening_role="x"))
        answer = save(
            editor_client,
            item,
            screening_role="factors",
            **{"screening_map-0-code": "yes", "screening_map-0-target": "unicorn"},
        )
        assert answer.status_code == 200 and "unknown agents or factors" in " ".join(
            answer.context["adminform"].form.non_field_errors()
        )
        assert stored(item).screening == before

    def test_caution_tags_are_ticked_from_those_in_use(self, editor_client, draft):
        Item.objects.filter(pk=draft.items.get(key="age_years").pk).update(
            caution_tags=["health_conditions"]
        )
        item = draft.items.get(key="pregnant")
        form = editor_client.get(item_url(item)).context["adminform"].form
        assert ("health_conditions", "Health conditions") in form.fields["tags"].choices
        save(editor_client, item, tags=["health_conditions"])
        assert stored(item).caution_tags == ["health_conditions"]
        assert "Select a valid choice" in errors(save(editor_client, item, tags=["made_up"]))


class TestPreview:
    def url(self, version, **query):
        url = reverse("admin:checklists_version_preview", args=[version.pk])
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def test_a_section_as_the_clinician_sees_it(self, editor_client, draft):
        page = editor_client.get(self.url(draft, section="medication_interactions"))
        html = page.content.decode()
        assert page.status_code == 200
        assert 'class="section-form"' in html and "js/show-when" in html
        assert "data-show-when=" in html and "&quot;substances_in_use&quot;" in html  # live
        assert "Pregnant" not in html  # another section

    def test_answers_tried_raise_the_cautions_and_nothing_is_stored(self, editor_client, draft):
        answers = AuditEvent.objects.count()
        page = editor_client.get(self.url(draft, pregnant="yes"))
        assert page.status_code == 200
        assert [f.title for f in page.context["preview"].flags] == ["Pregnancy reported"]
        assert "Pregnancy reported" in page.content.decode()
        assert AuditEvent.objects.count() == answers

    def test_a_hidden_question_raises_nothing(self, editor_client, draft):
        Item.objects.filter(version=draft, key="pregnant").update(
            show_when={"item": "combined_use", "op": "equals", "value": "yes"}
        )
        page = editor_client.get(self.url(draft, pregnant="yes", combined_use="no"))
        assert page.context["preview"].flags == []

    def test_clinicians_cannot_open_it(self, clinician, draft):
        page = login(HttpsClient(), clinician).get(self.url(draft))
        assert page.status_code == 302 and "/admin/login/" in page.url

    def test_an_unknown_section_is_not_found(self, editor_client, draft):
        assert editor_client.get(self.url(draft, section="nope")).status_code == 404

    def test_linked_from_the_section_page(self, editor_client, draft):
        section = draft.sections.get(key="individual_variability")
        page = editor_client.get(reverse("admin:checklists_section_change", args=[section.pk]))
        assert self.url(draft, section="individual_variability") in page.content.decode()

    def test_linked_from_the_version_page(self, editor_client, draft):
        page = editor_client.get(
            reverse("admin:checklists_templateversion_change", args=[draft.pk])
        )
        assert self.url(draft) in page.content.decode()


def step(client, version, name, **data):
    url = reverse("admin:checklists_version_workflow", args=[version.pk, name])
    return client.post(url, data, follow=True)


class TestChangeSummary:
    def test_submitting_needs_a_summary(self, editor_client, draft, editor):
        page = step(editor_client, draft, "submit", summary="  ")
        assert "This field is required" in page.content.decode()
        assert TemplateVersion.objects.get(pk=draft.pk).status == "draft"
        with pytest.raises(WorkflowRefused, match="change summary"):
            submit_for_review(version=draft, user=editor, summary="")

    def test_the_summary_goes_everywhere(self, editor_client, reviewer_client, draft):
        summary = "Pregnancy question reworded after the label update."
        step(editor_client, draft, "submit", summary=summary)
        draft.refresh_from_db()
        assert draft.status == "in_review" and draft.change_summary == summary
        event = AuditEvent.objects.get(action=AuditEvent.Action.CONTENT_SUBMITTED)
        assert event.detail["change_summary"] == summary
        exported = io.StringIO()
        call_command("export_content", "--number", str(draft.number), stdout=exported)
        assert json.loads(exported.getvalue())["checklists"][0]["change_summary"] == summary
        page = editor_client.get(
            reverse("admin:checklists_templateversion_change", args=[draft.pk])
        )
        assert summary in page.content.decode()
        diff = editor_client.get(reverse("admin:checklists_version_diff", args=[draft.pk]))
        assert summary in diff.content.decode()
        review = reviewer_client.get(reverse("admin:checklists_version_review", args=[draft.pk]))
        assert summary in review.content.decode()


class TestDeliberateApproval:
    @pytest.fixture
    def in_review(self, editor_client, draft):
        Item.objects.filter(version=draft, key="pregnant").update(prompt="Is she pregnant now?")
        step(editor_client, draft, "submit", summary="Reworded the pregnancy question.")
        draft.refresh_from_db()
        return draft

    def test_the_approval_page_shows_the_diff_and_the_tick(self, reviewer_client, in_review):
        page = reviewer_client.get(reverse("admin:checklists_version_review", args=[in_review.pk]))
        html = page.content.decode()
        assert "Is she pregnant now?" in html and "Reworded the pregnancy question." in html
        assert 'name="reviewed"' in html and "Confirm: approve and publish" in html

    def test_without_the_tick_nothing_is_published(self, reviewer_client, in_review):
        page = step(reviewer_client, in_review, "approve", comment="Fine.")
        assert "Tick that you reviewed each change" in page.content.decode()
        assert TemplateVersion.objects.get(pk=in_review.pk).status == "in_review"

    def test_approved_with_a_comment_in_the_trail_and_history(
        self, reviewer_client, in_review, published
    ):
        step(reviewer_client, in_review, "approve", reviewed="on", comment="Matches the label.")
        in_review.refresh_from_db()
        assert in_review.status == "published"
        event = AuditEvent.objects.get(action=AuditEvent.Action.CONTENT_PUBLISHED)
        assert event.detail["comment"] == "Matches the label."
        assert event.detail["reviewed_each_change"] is True
        assert event.detail["change_summary"] == "Reworded the pregnancy question."
        reasons = in_review.history.values_list("history_change_reason", flat=True)
        assert "Approved: Matches the label." in reasons

    def test_sending_back_needs_a_comment_the_author_sees(
        self, reviewer_client, editor_client, in_review
    ):
        page = step(reviewer_client, in_review, "return", comment="")
        assert "Say what the author should change" in page.content.decode()
        assert TemplateVersion.objects.get(pk=in_review.pk).status == "in_review"
        step(reviewer_client, in_review, "return", comment="Cite the SmPC section 4.6.")
        assert TemplateVersion.objects.get(pk=in_review.pk).status == "draft"
        event = AuditEvent.objects.get(action=AuditEvent.Action.CONTENT_RETURNED)
        assert event.detail["comment"] == "Cite the SmPC section 4.6."
        author_page = editor_client.get(
            reverse("admin:checklists_templateversion_change", args=[in_review.pk])
        ).content.decode()
        assert "Cite the SmPC section 4.6." in author_page
        reasons = in_review.history.values_list("history_change_reason", flat=True)
        assert "Sent back: Cite the SmPC section 4.6." in reasons

    def test_the_author_is_not_offered_approval(self, editor_client, in_review):
        page = editor_client.get(reverse("admin:checklists_version_review", args=[in_review.pk]))
        assert page.status_code == 200 and 'name="reviewed"' not in page.content.decode()


class TestEditorLanding:
    """The editor's landing page: their drafts, what waits for their review, what is late."""

    def landing(self, client) -> str:
        return client.get(reverse("case_list")).content.decode()

    def test_drafts_reviews_and_overdue(self, editor_client, reviewer_client, draft, editor):
        assert f"/admin/checklists/templateversion/{draft.pk}/change/" in self.landing(
            editor_client
        )
        submit_for_review(version=draft, user=editor, summary="Reworded the pregnancy question.")
        review = reverse("admin:checklists_version_review", args=[draft.pk])
        theirs = self.landing(reviewer_client)
        assert review in theirs and "Reworded the pregnancy question." in theirs
        assert review not in self.landing(editor_client)  # nobody reviews their own
        assert "No review has waited more than a week" in theirs
        TemplateVersion.objects.filter(pk=draft.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=8)
        )
        assert "1 review waiting more than a week" in self.landing(reviewer_client)

    def test_only_reviews_the_user_may_take_are_listed(self, reviewer_client, draft, editor):
        """Without the publish permission (access.can_publish_content) a version in review
        is not theirs to take, so the landing page does not offer it."""
        from django.contrib.auth.models import Permission

        submit_for_review(version=draft, user=editor, summary="Reworded.")
        review = reverse("admin:checklists_version_review", args=[draft.pk])
        assert review in self.landing(reviewer_client)
        reviewer = reviewer_client.session["_auth_user_id"]
        publish = Permission.objects.get(codename="publish_templateversion")
        for group in type(editor).objects.get(pk=reviewer).groups.all():
            group.permissions.remove(publish)
        assert review not in self.landing(reviewer_client)

    def test_content_past_its_review_by_date_is_counted(self, editor_client, draft):
        Item.objects.filter(version=draft, key="pregnant").update(
            review_by=datetime.date(2020, 1, 1)
        )
        assert "1 content row past its review-by date" in self.landing(editor_client)

    def test_its_query_count_is_pinned(self, editor_client, draft, second_editor):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert editor_client.get(reverse("case_list")).status_code == 200
            return len(captured)

        queries()  # the session's first page also counts the follow-ups due
        first = queries()
        new_draft_from(version=draft, user=second_editor)
        submit_for_review(
            version=new_draft_from(version=draft, user=second_editor),
            user=second_editor,
            summary="More.",
        )
        assert queries() == first


def test_a_lab_limits_problem_is_picked_from_the_catalogue(editor_client):
    problem = Problem.objects.order_by("title").first()  # the catalogue ships with data
    form = editor_client.get(reverse("admin:checklists_lablimit_add")).context["adminform"].form
    assert (problem.key, problem.title) in form.fields["problem_on_fail"].choices
    answer = editor_client.post(reverse("admin:checklists_lablimit_add"), {"problem_on_fail": "x"})
    assert "Select a valid choice" in str(
        answer.context["adminform"].form.errors["problem_on_fail"]
    )


def test_a_lab_limit_suggests_the_analytes_and_panels_in_use(editor_client):
    """Results on a certificate are matched by analyte, missing ones grouped by panel: the
    keys in use are offered as the editor types, so a typo does not start a new panel."""
    page = editor_client.get(reverse("admin:checklists_lablimit_add")).content.decode()
    panels = sorted(set(LabLimit.objects.exclude(panel="").values_list("panel", flat=True)))
    assert panels, "the starter limits group the adulterants into a panel"
    panel_list = page.split('<datalist id="id_panel-suggestions">')[1].split("</datalist>")[0]
    assert [f'<option value="{p}"></option>' in panel_list for p in panels] == [True] * len(panels)
    assert 'list="id_analyte-suggestions"' in page
    assert '<option value="arsenic_ppm"></option>' in page


def test_a_one_section_preview_takes_other_sections_conditions_as_met(editor_client, draft):
    Item.objects.filter(version=draft, key="pregnant").update(
        show_when={"item": "combined_use", "op": "equals", "value": "yes"}
    )
    url = reverse("admin:checklists_version_preview", args=[draft.pk])
    page = editor_client.get(url, {"section": "individual_variability", "pregnant": "yes"})
    assert [f.title for f in page.context["preview"].flags] == ["Pregnancy reported"]


def test_a_locked_item_shows_its_values_in_words(editor_client, published):
    item = published.items.get(key="pregnant")
    page = editor_client.get(item_url(item))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="options_rows-0-code"' not in html
    assert "When the answer is Yes: Major, “Pregnancy reported”" in html
    combined = published.items.get(key="combined_use")
    html = editor_client.get(item_url(combined)).content.decode()
    assert "Answer only if the answer to" in html and "Melatonin" in html


# Queries of the pages issue 21 adds or changes, pinned: the same for a small and a large
# version (session, user, device and permission lookups included). Change them only with
# a reason in the commit message.
PAGE_QUERIES = {
    # + the earlier items, the problem catalogue, the drug classes, the caution tags in use
    "item": 17,
    # + the sections, the items, their citations with sources
    "preview": 10,
    "section preview": 10,
    # + the previous version, both versions' sections, items and citations for the diff
    "review": 16,
    # + the validation's checks, the review history
    "version": 21,
}


def page_urls(version) -> dict[str, str]:
    item = version.items.get(key="pregnant")
    preview = reverse("admin:checklists_version_preview", args=[version.pk])
    return {
        "item": item_url(item),
        "preview": preview + "?pregnant=yes",
        "section preview": preview + "?section=individual_variability&pregnant=yes",
        "review": reverse("admin:checklists_version_review", args=[version.pk]),
        "version": reverse("admin:checklists_templateversion_change", args=[version.pk]),
    }


@pytest.mark.parametrize("size", [0, 30])
def test_the_editing_pages_queries_are_pinned(editor, size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    published = make_version(extra_items=size)
    draft = new_draft_from(version=published, user=editor)
    client = login(HttpsClient(), editor)
    counts = {}
    for name, url in page_urls(draft).items():
        client.get(url)  # the first request of a session warms caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, name
        counts[name] = sum(1 for q in captured if "SAVEPOINT" not in q["sql"])
    assert counts == PAGE_QUERIES


class TestJoinedConditionsAndKeptKeys:
    """Issue 18's content in the item form: two conditions joined by "and", "is one of" on a
    several-choice answer, and the screening keys the form does not edit."""

    def test_two_conditions_are_stored_joined(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        answer = save(
            editor_client,
            item,
            show_item="substances_in_use",
            show_op="is",
            show_values=["substances_in_use:kratom"],
            also_item="combined_use",
            also_op="is",
            also_values=["combined_use:yes"],
        )
        assert answer.status_code == 302
        assert stored(item).show_when == {
            "all": [
                {"item": "substances_in_use", "op": "includes", "value": "kratom"},
                {"item": "combined_use", "op": "equals", "value": "yes"},
            ]
        }
        # Shown back as it was stored.
        form = editor_client.get(item_url(item)).context["adminform"].form
        assert form.initial["also_item"] == "combined_use"
        assert form.initial["show_values"] == ["substances_in_use:kratom"]

    def test_one_of_several_choices_is_kept_but_not_joined(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        save(
            editor_client,
            item,
            show_item="substances_in_use",
            show_op="in",
            show_values=["substances_in_use:kratom", "substances_in_use:melatonin"],
        )
        assert stored(item).show_when == {
            "item": "substances_in_use",
            "op": "in",
            "value": ["kratom", "melatonin"],
        }
        refused = save(
            editor_client,
            item,
            show_item="substances_in_use",
            show_op="in",
            show_values=["substances_in_use:kratom", "substances_in_use:melatonin"],
            also_item="combined_use",
            also_op="is",
            also_values=["combined_use:yes"],
        )
        assert refused.status_code == 200
        assert "cannot join" in refused.content.decode()

    def test_keys_the_form_does_not_edit_survive_a_save(self, editor_client, draft):
        item = draft.items.get(key="pregnant")
        item.screening = {
            "role": "legal_check_source",
            "substance": "melatonin",
        }
        item.save()
        save(editor_client, item, screening_role="legal_check_source")
        assert stored(item).screening == {"role": "legal_check_source", "substance": "melatonin"}
