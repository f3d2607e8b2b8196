"""The version workflow: draft → in review → published → retired, and every refusal."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from checklists.authoring import validation
from checklists.authoring.files import version_hash
from checklists.authoring.validation import content_problems, validate_version
from checklists.authoring.workflow import (
    WorkflowRefused,
    approve_and_publish,
    confirm_retirement,
    new_draft_from,
    retire_version,
    return_to_draft,
    submit_for_review,
)
from checklists.models import (
    Answer,
    AuditEvent,
    Citation,
    ImmutableContentError,
    InteractionRule,
    Item,
    TemplateVersion,
)
from checklists.roles import CONTENT_EDITOR, CONTENT_EXTRA_PERMISSIONS, CONTENT_MODELS

from .conftest import HttpsClient, login
from .factories import fill, make_case, make_response, make_user, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(db):
    return make_version()


@pytest.fixture
def draft(published, editor):
    return new_draft_from(version=published, user=editor)


def published_with_an_overdue_item() -> TemplateVersion:
    version = make_version(publish=False)
    Item.objects.filter(version=version, key="pregnant").update(review_by=datetime.date(2020, 1, 1))
    version.status, version.published_at = TemplateVersion.Status.PUBLISHED, timezone.now()
    version.save()
    return version


def in_review(version: TemplateVersion) -> TemplateVersion:
    """Put a version in review without the submit check (to test the publish check)."""
    TemplateVersion.objects.filter(pk=version.pk).update(
        status=TemplateVersion.Status.IN_REVIEW, content_hash=version_hash(version)
    )
    version.refresh_from_db()
    return version


def refusal(call, **kwargs) -> list[str]:
    with pytest.raises(WorkflowRefused) as caught:
        call(**kwargs)
    return caught.value.reasons


class TestNewDraft:
    def test_copies_sections_items_and_citations_with_their_keys(self, published, draft, editor):
        assert draft.status == "draft" and draft.number == 2 and draft.based_on == published
        assert draft.author == editor
        assert list(draft.items.values_list("key", "options", "show_when")) == list(
            published.items.values_list("key", "options", "show_when")
        )
        assert Citation.objects.filter(item__version=draft).count() == published.items.count()
        assert version_hash(draft) == version_hash(published)
        assert AuditEvent.objects.filter(action="content_draft_created", user=editor).exists()

    def test_the_copy_is_in_the_history_under_the_editor(self, draft, editor):
        item = draft.items.first()
        assert item.history.get().history_user == editor

    def test_the_published_version_stays_frozen(self, published, draft):
        item = published.items.first()
        item.prompt = "changed"
        with pytest.raises(ImmutableContentError):
            item.save()


class TestSubmit:
    def test_moves_a_valid_draft_to_review_and_locks_its_content(self, draft, editor):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        draft.refresh_from_db()
        assert draft.status == "in_review" and draft.submitted_by == editor
        assert draft.content_hash == version_hash(draft)
        item = draft.items.first()
        item.prompt = "Sneaked in during review"
        with pytest.raises(ImmutableContentError, match="in review"):
            item.save()
        with pytest.raises(ImmutableContentError):
            Item.objects.filter(pk=item.pk).update(prompt="x")

    def test_sending_back_to_draft_unlocks_it(self, draft, editor, second_editor):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        return_to_draft(version=draft, user=second_editor, comment="Cite the label.")
        item = draft.items.first()
        item.prompt = "Reworded after review"
        item.save()
        assert Item.objects.get(pk=item.pk).prompt == "Reworded after review"

    def test_refuses_a_draft_with_problems_listing_them(self, draft, editor):
        Citation.objects.filter(item__version=draft, item__key="pregnant").delete()
        assert refusal(
            submit_for_review, version=draft, user=editor, summary="Clearer wording."
        ) == ["Item 'pregnant' cites no source."]
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_refuses_what_is_not_a_draft(self, published, editor):
        reasons = refusal(
            submit_for_review, version=published, user=editor, summary="Clearer wording."
        )
        assert "only a draft can be submitted" in reasons[0]


class TestPublishRefusals:
    """Each reason publishing is refused, through approve_and_publish."""

    def publish_reasons(self, version, user) -> list[str]:
        return refusal(approve_and_publish, version=in_review(version), user=user, reviewed=True)

    def test_item_without_a_source(self, draft, second_editor):
        Citation.objects.filter(item__version=draft, item__key="age_years").delete()
        assert self.publish_reasons(draft, second_editor) == ["Item 'age_years' cites no source."]

    def test_show_when_on_a_missing_item(self, draft, second_editor):
        item = draft.items.get(key="combined_use")
        item.show_when = {"item": "no_such_item", "op": "answered"}
        item.save()
        assert self.publish_reasons(draft, second_editor) == [
            "Item 'combined_use': its show-when refers to 'no_such_item', which is missing."
        ]

    def test_show_when_on_a_later_item(self, draft, second_editor):
        item = draft.items.get(key="substances_in_use")
        item.show_when = {"item": "follow_up_date", "op": "answered"}
        item.save()
        reasons = self.publish_reasons(draft, second_editor)
        assert reasons == [
            "Item 'substances_in_use': its show-when refers to 'follow_up_date', which comes "
            "later; a condition may only refer to an earlier item."
        ]

    def test_repeated_option_codes(self, draft, second_editor):
        item = draft.items.get(key="substances_in_use")
        item.options = [*item.options, {"code": "kratom", "label": "Kratom again"}]
        item.save()
        assert self.publish_reasons(draft, second_editor) == [
            "Item 'substances_in_use': option code 'kratom' is used 2 times."
        ]

    def test_repeated_item_keys(self):
        # The database refuses two items with one key in a version; the rule is still
        # checked on the content itself (imports are checked the same way).
        item = {"key": "a", "citations": [{"source": "s"}], "options": []}
        sections = [{"items": [item]}, {"items": [dict(item)]}]
        assert content_problems(sections) == ["Item key 'a' is used 2 times; keys must be unique."]

    def test_a_used_option_code_relabelled(self, published, draft, second_editor, team):
        user = make_user(teams=[team])
        response = make_response(make_case(team, user), user)
        fill(response, user)  # substances_in_use answered ["kratom", "melatonin"]
        item = draft.items.get(key="substances_in_use")
        item.options = [
            {"code": "kratom", "label": "Kratom leaf powder only"},
            {"code": "melatonin", "label": "Melatonin"},
        ]
        item.save()
        assert self.publish_reasons(draft, second_editor) == [
            "Item 'substances_in_use': option code 'kratom' was answered as 'Kratom' on v1 and "
            "would now mean 'Kratom leaf powder only'; give the new meaning a new code."
        ]

    def test_an_unused_option_code_may_be_relabelled(self, published, draft, team):
        user = make_user(teams=[team])
        response = make_response(make_case(team, user), user)
        Answer.objects.create(
            response=response,
            item=published.items.get(key="substances_in_use"),
            value=["kratom"],
            updated_by=user,
        )
        item = draft.items.get(key="substances_in_use")
        item.options = [item.options[0], {"code": "melatonin", "label": "Melatonin (any form)"}]
        item.save()
        assert validate_version(draft) == []

    def test_overdue_blocking_content(self, draft, second_editor, monkeypatch):
        # The legal and lab tables arrive with other work; any registered table that
        # blocks publishing is checked the same way.
        entry = validation.ReviewedContent(
            "Legal status rows", "checklists.InteractionRule", blocks_publish=True
        )
        monkeypatch.setattr(validation, "REVIEWED_CONTENT", [entry])
        rule = InteractionRule.objects.order_by("code").first()
        InteractionRule.objects.filter(pk=rule.pk).update(review_by=datetime.date(2020, 1, 1))
        reasons = self.publish_reasons(draft, second_editor)
        assert reasons == [
            f"Legal status rows: 1 row(s) past their review-by date ({rule.code}); "
            "review them before publishing."
        ]

    def test_every_reason_is_listed_at_once(self, draft, second_editor):
        Citation.objects.filter(item__version=draft, item__key="age_years").delete()
        item = draft.items.get(key="combined_use")
        item.show_when = {"item": "nowhere", "op": "answered"}
        item.save()
        assert len(self.publish_reasons(draft, second_editor)) == 2
        assert TemplateVersion.objects.get(pk=draft.pk).status == "in_review"

    def test_content_changed_after_submission(self, draft, editor, second_editor):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        TemplateVersion.objects.filter(pk=draft.pk).update(content_hash="0" * 64)
        assert refusal(approve_and_publish, version=draft, user=second_editor, reviewed=True) == [
            "Its content changed after it was submitted; submit it again."
        ]


class TestTwoPersonApproval:
    def test_the_author_cannot_approve_their_own_version(self, draft, editor):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        reasons = refusal(approve_and_publish, version=draft, user=editor, reviewed=True)
        assert "cannot approve it" in reasons[0]
        assert TemplateVersion.objects.get(pk=draft.pk).status == "in_review"

    def test_the_submitter_cannot_approve(self, draft, second_editor):
        submit_for_review(version=draft, user=second_editor, summary="Clearer wording.")
        assert refusal(approve_and_publish, version=draft, user=second_editor, reviewed=True)

    def test_an_editor_who_changed_an_item_cannot_approve(self, draft, editor):
        third = make_user("third", role=CONTENT_EDITOR, is_staff=True)
        item = draft.items.first()
        item.help_text, item._history_user = "Edited by the third editor.", third
        item.save()
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        assert refusal(approve_and_publish, version=draft, user=third, reviewed=True)

    def test_a_clinician_cannot_approve(self, draft, editor, clinician):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        assert refusal(approve_and_publish, version=draft, user=clinician, reviewed=True) == [
            "Only content editors with the publish permission can approve."
        ]

    def test_a_draft_cannot_be_approved(self, draft, second_editor):
        assert (
            "only a version in review"
            in refusal(approve_and_publish, version=draft, user=second_editor, reviewed=True)[0]
        )

    def test_the_database_also_refuses_approver_equal_to_author(self, draft, editor):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            TemplateVersion.objects.filter(pk=draft.pk).update(approver=editor)


class TestPublish:
    def test_publishes_retires_the_previous_and_stores_the_hash(
        self, published, draft, editor, second_editor
    ):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        approve_and_publish(version=draft, user=second_editor, reviewed=True)
        draft.refresh_from_db()
        published.refresh_from_db()
        assert draft.status == "published" and draft.approver == second_editor
        assert draft.published_at is not None
        assert draft.content_hash == version_hash(draft)
        assert published.status == "retired" and published.retired_at is not None
        event = AuditEvent.objects.get(action=AuditEvent.Action.CONTENT_PUBLISHED)
        assert event.user == second_editor and event.object_id == str(draft.pk)
        assert event.detail["retired_version"] == 1
        assert event.detail["content_hash"] == draft.content_hash

    def test_new_checklists_start_on_the_new_version(
        self, published, draft, editor, second_editor, case, clinician
    ):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        approve_and_publish(version=draft, user=second_editor, reviewed=True)
        assert make_response(case, clinician).version == draft

    def test_retire_is_proposed_then_confirmed_by_a_second_editor(
        self, published, editor, second_editor
    ):
        retire_version(version=published, user=editor)
        published.refresh_from_db()
        assert published.status == "published" and published.retire_proposed_by == editor
        assert "already proposed" in refusal(retire_version, version=published, user=editor)[0]
        assert "cannot confirm" in refusal(confirm_retirement, version=published, user=editor)[0]
        confirm_retirement(version=published, user=second_editor)
        published.refresh_from_db()
        assert published.status == "retired"
        assert AuditEvent.objects.filter(action="content_retired").exists()
        assert "not published" in refusal(retire_version, version=published, user=editor)[0]

    def test_only_a_draft_can_be_deleted(self, published, draft, editor):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        with pytest.raises(ImmutableContentError):
            TemplateVersion.objects.get(pk=draft.pk).delete()


class TestReviewRegistry:
    def test_tables_that_do_not_exist_yet_are_skipped(self):
        entry = validation.ReviewedContent("Lab limits", "checklists.NoSuchModel", required=False)
        assert validation.overdue_content(datetime.date.today(), registry=[entry]) == []

    def test_a_table_without_review_dates_fails_loudly(self):
        entry = validation.ReviewedContent("Teams", "checklists.Team")
        with pytest.raises(ImproperlyConfigured):
            validation.overdue_content(datetime.date.today(), registry=[entry])

    def test_items_of_retired_versions_are_not_overdue(self, editor, second_editor):
        published = published_with_an_overdue_item()
        today = datetime.date.today()
        groups = {g.label: g.rows for g in validation.overdue_content(today)}
        assert [i.key for i in groups["Checklist items"]] == ["pregnant"]
        retire_version(version=published, user=editor)
        confirm_retirement(version=published, user=second_editor)
        groups = {g.label: g.rows for g in validation.overdue_content(today)}
        assert groups["Checklist items"] == []


class TestRoles:
    def test_content_editors_hold_exactly_the_content_permissions(self, editor):
        group = Group.objects.get(name=CONTENT_EDITOR)
        expected = {
            f"{action}_{model}"
            for model in CONTENT_MODELS
            for action in ("view", "add", "change", "delete")
        } | set(CONTENT_EXTRA_PERMISSIONS)
        assert set(group.permissions.values_list("codename", flat=True)) == expected

    def test_clinicians_have_none_of_them(self, clinician):
        codenames = set(
            Group.objects.get(name="Clinicians").permissions.values_list("codename", flat=True)
        )
        content = {f"{a}_{m}" for m in CONTENT_MODELS for a in ("view", "add", "change", "delete")}
        assert codenames & (content | set(CONTENT_EXTRA_PERMISSIONS)) == set()


class TestAdminWorkflow:
    """The buttons on the version page, through the test client with personas."""

    def url(self, version, step):
        return f"/admin/checklists/templateversion/{version.pk}/workflow/{step}/"

    def test_anonymous_and_clinicians_are_sent_to_the_login(self, client, draft, clinician):
        assert client.post(self.url(draft, "submit")).status_code == 302
        login(client, clinician)
        answer = client.post(self.url(draft, "submit"))
        assert answer.status_code == 302 and "/admin/login/" in answer.url
        assert TemplateVersion.objects.get(pk=draft.pk).status == "draft"

    def test_get_is_refused_and_csrf_is_checked(self, draft, editor):
        strict = login(HttpsClient(enforce_csrf_checks=True), editor)
        assert strict.get(self.url(draft, "submit")).status_code == 405
        assert strict.post(self.url(draft, "submit")).status_code == 403
        assert TemplateVersion.objects.get(pk=draft.pk).status == "draft"

    def test_submit_then_a_second_editor_approves(self, client, published, draft, editor):
        login(client, editor)
        answer = client.post(self.url(draft, "submit"), {"summary": "Clearer wording."})
        assert answer.status_code == 302
        assert TemplateVersion.objects.get(pk=draft.pk).status == "in_review"
        page = client.post(self.url(draft, "approve"), {"reviewed": "on"}, follow=True)
        assert "cannot approve it" in page.content.decode()
        assert TemplateVersion.objects.get(pk=draft.pk).status == "in_review"
        other = login(HttpsClient(), make_user("reviewer", role=CONTENT_EDITOR, is_staff=True))
        other.post(self.url(draft, "approve"), {"reviewed": "on"})
        assert TemplateVersion.objects.get(pk=draft.pk).status == "published"
        assert TemplateVersion.objects.get(pk=published.pk).status == "retired"

    def test_refusal_reasons_are_shown(self, client, draft, editor):
        Citation.objects.filter(item__version=draft, item__key="pregnant").delete()
        login(client, editor)
        page = client.get(f"/admin/checklists/templateversion/{draft.pk}/change/")
        assert "Item &#x27;pregnant&#x27; cites no source." in page.content.decode()
        page = client.post(self.url(draft, "submit"), {"summary": "x"}, follow=True)
        assert "cites no source" in page.content.decode()

    def test_new_draft_button_opens_the_copy(self, client, published, editor):
        login(client, editor)
        answer = client.post(self.url(published, "new-draft"))
        copy = TemplateVersion.objects.get(number=2)
        assert answer.url == f"/admin/checklists/templateversion/{copy.pk}/change/"

    def test_no_list_action_approves_without_the_approval_page(
        self, client, published, draft, editor, second_editor
    ):
        submit_for_review(version=draft, user=editor, summary="Clearer wording.")
        login(client, second_editor)
        client.post(
            "/admin/checklists/templateversion/",
            {"action": "approve_selected", "_selected_action": [draft.pk]},
        )
        assert TemplateVersion.objects.get(pk=draft.pk).status == "in_review"

    def test_published_content_is_read_only_in_the_admin(self, client, published, editor):
        login(client, editor)
        page = client.get(f"/admin/checklists/templateversion/{published.pk}/change/")
        assert page.status_code == 200 and b'name="change_summary"' not in page.content
        section = published.sections.first()
        page = client.get(f"/admin/checklists/section/{section.pk}/change/")
        assert page.status_code == 200 and b'name="title"' not in page.content

    def test_history_shows_who_changed_an_item(self, client, draft, editor):
        login(client, editor)
        item = draft.items.get(key="age_years")
        page = client.get(f"/admin/checklists/item/{item.pk}/history/")
        assert page.status_code == 200 and b"editor" in page.content

    def test_overdue_page(self, client, editor):
        published_with_an_overdue_item()
        login(client, editor)
        page = client.get("/admin/checklists/templateversion/overdue/")
        assert page.status_code == 200
        assert "pregnant: Question pregnant?" in page.content.decode()

    def test_diff_page(self, client, published, draft, editor):
        item = draft.items.get(key="pregnant")
        item.prompt = "Is the patient pregnant or planning a pregnancy?"
        item.save()
        login(client, editor)
        page = client.get(f"/admin/checklists/templateversion/{draft.pk}/diff/")
        assert page.status_code == 200
        assert "Is the patient pregnant or planning a pregnancy?" in page.content.decode()


class TestSectionPage:
    """Editors add items from the section page; the item takes the section's version."""

    def post_items(self, client, section, new_key):
        items = list(section.items.order_by("position"))
        data = {
            "version": section.version_id,
            "key": section.key,
            "title": section.title,
            "intro": section.intro,
            "position": section.position,
            "items-TOTAL_FORMS": len(items) + 1,
            "items-INITIAL_FORMS": len(items),
            "items-MIN_NUM_FORMS": 0,
            "items-MAX_NUM_FORMS": 1000,
        }
        rows = [*items, Item(key=new_key, prompt="Who should the patient call?", kind="long_text")]
        for n, item in enumerate(rows):
            data.update(
                {
                    f"items-{n}-id": item.pk or "",
                    f"items-{n}-section": section.pk,
                    f"items-{n}-position": item.position or 99,
                    f"items-{n}-key": item.key,
                    f"items-{n}-prompt": item.prompt,
                    f"items-{n}-kind": item.kind,
                    f"items-{n}-required": "on" if item.required and item.pk else "",
                    f"items-{n}-review_by": "",
                }
            )
        return client.post(f"/admin/checklists/section/{section.pk}/change/", data)

    def test_adds_an_item_to_a_draft(self, client, draft, editor):
        section = draft.sections.get(key="plan_and_monitoring")
        login(client, editor)
        assert self.post_items(client, section, "who_to_call").status_code == 302
        item = Item.objects.get(key="who_to_call")
        assert item.version == draft and item.section == section
        assert item.history.get().history_user == editor

    def test_a_repeated_key_is_a_form_error(self, client, draft, editor):
        section = draft.sections.get(key="plan_and_monitoring")
        login(client, editor)
        page = self.post_items(client, section, "pregnant")
        assert page.status_code == 200
        assert "Another item of this version has the key" in page.content.decode()
        assert draft.items.filter(key="pregnant").count() == 1
