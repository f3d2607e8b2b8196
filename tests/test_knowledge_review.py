"""Knowledge under two people: an editor's save in the admin proposes, a second editor
approves, and only then does a clinician's screening change (issue 15, point 3).

The attack this closes: one editor set the kratom-with-opioid rule to "info" in the admin
and a live draft lost a major caution, and its acknowledgement, at once.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import IntegrityError, models, transaction

from checklists import refdata, screening
from checklists.cases.readmodel import load_state
from checklists.models import (
    AuditEvent,
    DecidedProposalError,
    InteractionRule,
    Jurisdiction,
    KnowledgeChange,
    LabLimit,
    LegalStatus,
    Source,
    SubstanceAlias,
    TemplateVersion,
    VariabilityRule,
)

from .conftest import HttpsClient, login
from .factories import fill, make_response, make_user, make_version

pytestmark = pytest.mark.django_db

OPIOID = "interaction:kratom:opioid-agonists"
PROPOSED = "Proposed for review: a second editor must approve it before clinicians see it."
TODAY = datetime.date(2026, 11, 22)


def admin_url(model, page: str, *args) -> str:
    name = model._meta.model_name
    suffix = "/".join(str(a) for a in args)
    return f"/admin/checklists/{name}/{suffix + '/' if suffix else ''}{page}"


def _encoded(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else value


def page_data(page) -> dict:
    """What a browser sends back from an admin form page unchanged: the main form's and
    every inline row's values, and the inline management forms."""
    forms = [page.context["adminform"].form]
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value is not False:
                many = isinstance(value, list | tuple)
                encoded = [_encoded(v) for v in value] if many else _encoded(value)
                data[form.add_prefix(name)] = encoded
    return data


def propose_edit(client, row, reason="Evidence reviewed: see the new source.", **changes):
    url = admin_url(type(row), "change/", row.pk)
    data = {**page_data(client.get(url)), **changes, "proposal_reason": reason}
    return client.post(url, data)


def decide(client, change, step, comment=""):
    url = f"/admin/checklists/knowledgechange/{change.pk}/decide/{step}/"
    return client.post(url, {"comment": comment}, follow=True)


def screen(**intake):
    return screening.screen(screening.parse_intake(intake, today=TODAY))


def severity(result, code) -> str | None:
    return next((f.severity for f in result.flags if f.code == code), None)


@pytest.fixture
def rule():
    return InteractionRule.objects.get(code=OPIOID)


def test_admin_save_of_rule_is_a_proposal_not_a_change(editor_client, editor, rule):
    token = refdata.current_token()
    answer = propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    assert answer.status_code == 302
    assert answer.url == f"/admin/checklists/knowledgechange/{change.pk}/change/"
    rule.refresh_from_db()
    assert rule.severity == "major" and refdata.current_token() == token
    assert change.is_pending and change.kind == "change" and change.proposed_by == editor
    assert (change.base["severity"], change.proposed["severity"]) == ("major", "info")
    assert change.object_id == rule.pk and change.row_label == OPIOID
    event = AuditEvent.objects.get(action=AuditEvent.Action.KNOWLEDGE_PROPOSED)
    assert event.user == editor and event.object_id == str(change.pk)
    assert event.detail["fields"] == ["severity"] and event.detail["model"] == "interactionrule"
    page = editor_client.get(answer.url)
    assert PROPOSED in page.text
    assert "Major" in page.text and "Information" in page.text  # the before and after
    # The reason is required, and a save that changes nothing proposes nothing.
    assert propose_edit(editor_client, rule, reason="", severity="minor").status_code == 200
    unchanged = propose_edit(editor_client, rule)
    assert "Nothing changed" in editor_client.get(unchanged.url).text
    assert KnowledgeChange.objects.count() == 1


def test_proposer_cannot_approve_own_change(editor_client, editor, rule):
    propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    page = editor_client.get(f"/admin/checklists/knowledgechange/{change.pk}/change/")
    assert "Withdraw" in page.text and "Approve and apply" not in page.text
    answer = decide(editor_client, change, "approve")
    assert "you cannot approve it" in answer.text
    assert "proposer withdraws it" in decide(editor_client, change, "reject", "no").text
    change.refresh_from_db()
    rule.refresh_from_db()
    assert change.is_pending and rule.severity == "major"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.KNOWLEDGE_APPROVED).exists()
    decide(editor_client, change, "withdraw", "Wrong rule.")
    change.refresh_from_db()
    assert change.status == "withdrawn" and change.decided_by == editor
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KNOWLEDGE_WITHDRAWN).exists()
    assert "already decided" in decide(editor_client, change, "withdraw").text


def test_second_editor_approval_applies_and_audits_both(
    editor_client, reviewer_client, editor, second_editor, rule
):
    propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    strict = login(HttpsClient(enforce_csrf_checks=True), second_editor)
    url = f"/admin/checklists/knowledgechange/{change.pk}/decide/approve/"
    assert strict.post(url).status_code == 403  # no CSRF token
    assert reviewer_client.get(url).status_code == 405
    page = reviewer_client.get(f"/admin/checklists/knowledgechange/{change.pk}/change/")
    assert "Approve and apply" in page.text and "Withdraw" not in page.text
    token = refdata.current_token()
    answer = decide(reviewer_client, change, "approve", "Checked against the label.")
    assert "approved and applied" in answer.text
    rule.refresh_from_db()
    change.refresh_from_db()
    assert rule.severity == "info" and refdata.current_token() != token
    assert change.status == "approved" and change.decided_by == second_editor
    assert change.comment == "Checked against the label."
    event = AuditEvent.objects.get(action=AuditEvent.Action.KNOWLEDGE_APPROVED)
    assert event.user == second_editor
    assert event.detail["proposed_by"] == "editor"
    assert event.detail["approved_by"] == "second_editor"
    latest = rule.history.latest()
    assert latest.history_user == editor and "approved by second_editor" in (
        latest.history_change_reason
    )


def test_rejection_needs_a_comment_and_changes_nothing(editor_client, reviewer_client, rule):
    propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    assert "Say why it is rejected." in decide(reviewer_client, change, "reject").text
    decide(reviewer_client, change, "reject", "The label still warns.")
    change.refresh_from_db()
    rule.refresh_from_db()
    assert change.status == "rejected" and rule.severity == "major"
    event = AuditEvent.objects.get(action=AuditEvent.Action.KNOWLEDGE_REJECTED)
    assert event.detail["rejected_by"] == "second_editor"


def test_draft_flags_unchanged_until_approved(
    editor_client, reviewer_client, editor, case, clinician, rule
):
    make_version()
    response = make_response(case, clinician)
    fill(response, clinician)

    def opioid_flag():
        """The rule's own hit, and the problem it is folded into (issue 16)."""
        flags = load_state(response).flags
        problem = next(f for f in flags if any(c.code == OPIOID for c in f.contributors))
        return next(c for c in problem.contributors if c.code == OPIOID), problem

    hit, problem = opioid_flag()
    assert hit.severity == "major" and problem.needs_acknowledgement
    propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    hit, problem = opioid_flag()
    assert hit.severity == "major" and problem.needs_acknowledgement
    decide(editor_client, change, "approve")  # refused: the proposer
    assert opioid_flag()[0].severity == "major"
    decide(reviewer_client, change, "approve")
    hit, problem = opioid_flag()
    assert hit.severity == "info" and not problem.needs_acknowledgement


def test_stale_proposal_refused(editor_client, reviewer_client, rule):
    propose_edit(editor_client, rule, severity="minor")
    propose_edit(editor_client, rule, title="A retitled rule")
    first, second = KnowledgeChange.objects.order_by("pk")
    page = editor_client.get(f"/admin/checklists/interactionrule/{rule.pk}/change/")
    assert page.text.count("/admin/checklists/knowledgechange/") >= 2  # both named
    decide(reviewer_client, first, "approve")
    review = reviewer_client.get(f"/admin/checklists/knowledgechange/{second.pk}/change/")
    assert "approving it will be refused" in review.text
    answer = decide(reviewer_client, second, "approve")
    assert "The row changed after this was proposed" in answer.text
    rule.refresh_from_db()
    second.refresh_from_db()
    assert rule.severity == "minor" and rule.title != "A retitled rule"
    assert second.is_pending


def test_bulk_delete_goes_through_review(editor_client, reviewer_client):
    rules = list(VariabilityRule.objects.order_by("code")[:2])
    selected = {"action": "delete_selected", "_selected_action": [r.pk for r in rules]}
    url = "/admin/checklists/variabilityrule/"
    confirm = editor_client.post(url, selected)
    assert confirm.status_code == 200 and "Propose deleting" in confirm.text
    refused = editor_client.post(url, {**selected, "post": "yes", "proposal_reason": ""})
    assert refused.status_code == 200 and "Say why" in refused.text
    assert not KnowledgeChange.objects.exists()
    done = editor_client.post(
        url, {**selected, "post": "yes", "proposal_reason": "Superseded."}, follow=True
    )
    assert "Proposed deleting 2" in done.text
    assert VariabilityRule.objects.filter(pk__in=[r.pk for r in rules]).count() == 2
    changes = list(KnowledgeChange.objects.order_by("pk"))
    assert [c.kind for c in changes] == ["delete", "delete"]
    # One row's own delete page asks the reason too.
    one = VariabilityRule.objects.exclude(pk__in=[r.pk for r in rules]).first()
    delete_url = admin_url(VariabilityRule, "delete/", one.pk)
    assert "Reason for this change" in editor_client.get(delete_url).text
    editor_client.post(delete_url, {"post": "yes"})
    assert KnowledgeChange.objects.count() == 2 and VariabilityRule.objects.filter(pk=one.pk)
    editor_client.post(delete_url, {"post": "yes", "proposal_reason": "Duplicate."})
    assert KnowledgeChange.objects.filter(object_id=one.pk, kind="delete").exists()
    assert {c.object_id for c in changes} == {r.pk for r in rules}
    decide(reviewer_client, changes[0], "approve")
    assert not VariabilityRule.objects.filter(pk=changes[0].object_id).exists()
    assert VariabilityRule.objects.filter(pk=changes[1].object_id).exists()


def test_alias_inline_change_is_proposed(editor_client, reviewer_client):
    oxycodone = SubstanceAlias.objects.get(normalised="oxycodone").substance
    url = admin_url(type(oxycodone), "change/", oxycodone.pk)
    data = page_data(editor_client.get(url))
    before = sorted(oxycodone.aliases.values_list("name", flat=True))
    dropped = next(n for n in before if n != "oxycodone")
    for key, value in list(data.items()):
        if key.endswith("-name") and value == dropped:
            data[key.replace("-name", "-DELETE")] = "on"
        if key.endswith("-name") and value == "":
            data[key] = "Zzyxoxy"
    data["proposal_reason"] = "A new brand name."
    assert editor_client.post(url, data).status_code == 302
    change = KnowledgeChange.objects.get()
    assert change.proposed["aliases"] == sorted({*before, "Zzyxoxy"} - {dropped})
    assert screen(substances=["kratom"], medications=["Zzyxoxy 5 mg"]).unmatched == ["Zzyxoxy 5 mg"]
    decide(reviewer_client, change, "approve")
    assert screen(substances=["kratom"], medications=["Zzyxoxy 5 mg"]).unmatched == []
    assert not oxycodone.aliases.filter(name=dropped).exists()
    # A name another substance already has is a form error, not a proposal.
    taken = SubstanceAlias.objects.exclude(substance=oxycodone).first().name
    data = page_data(editor_client.get(url))
    empty = next(k for k, v in data.items() if k.endswith("-name") and v == "")
    data.update({empty: taken, "proposal_reason": "Typo."})
    answer = editor_client.post(url, data)
    assert answer.status_code == 200 and "Already the name of another substance" in answer.text
    assert KnowledgeChange.objects.count() == 1


def test_source_edit_is_proposed(editor_client, reviewer_client):
    source = Source.objects.get(key="seed-pain-sleep")
    propose_edit(editor_client, source, title="Renamed: second edition")
    source.refresh_from_db()
    assert source.title != "Renamed: second edition"
    decide(reviewer_client, KnowledgeChange.objects.get(), "approve")
    source.refresh_from_db()
    assert source.title == "Renamed: second edition"
    # A new source: nothing is created until approved, then the proposal names the row.
    add = admin_url(Source, "add/")
    data = {**page_data(editor_client.get(add)), "key": "zz-new", "title": "A new review"}
    data.update({"kind": "review", "proposal_reason": "Cited by the next rule."})
    assert editor_client.post(add, data).status_code == 302
    assert not Source.objects.filter(key="zz-new").exists()
    change = KnowledgeChange.objects.get(kind="add")
    assert change.object_id is None
    decide(reviewer_client, change, "approve")
    change.refresh_from_db()
    assert change.object_id == Source.objects.get(key="zz-new").pk


def test_legal_and_lab_rows_are_proposed(editor_client, reviewer_client):
    add = admin_url(LegalStatus, "add/")
    data = page_data(editor_client.get(add))
    data.update(
        {
            "jurisdiction": Jurisdiction.objects.get(code="US-TX").pk,
            "substance": "kratom",
            "status": "banned",
            "effective_from": "2026-11-01",
            "summary": "Test ban.",
            "sources": [Source.objects.get(key="seed-pain-sleep").pk],
            "verified_on": "2026-11-20",
            "verified_by": "editor",
            "proposal_reason": "The state banned it.",
        }
    )
    assert editor_client.post(add, data).status_code == 302

    def statuses():
        return {r.status for r in screen(substances=["kratom"], jurisdiction="US-TX").legal}

    assert "banned" not in statuses()
    decide(reviewer_client, KnowledgeChange.objects.get(model_name="legalstatus"), "approve")
    assert "banned" in statuses()

    limit = LabLimit.objects.exclude(limit=None).first()
    propose_edit(editor_client, limit, limit=limit.limit / 2)
    change = KnowledgeChange.objects.get(model_name="lablimit")
    assert LabLimit.objects.get(pk=limit.pk).limit == limit.limit
    decide(reviewer_client, change, "approve")
    assert LabLimit.objects.get(pk=limit.pk).limit == limit.limit / 2


def test_history_revert_is_refused(editor_client, rule):
    past = rule.history.earliest()
    url = f"/admin/checklists/interactionrule/{rule.pk}/history/{past.history_id}/"
    data = {**page_data(editor_client.get(admin_url(InteractionRule, "change/", rule.pk)))}
    assert editor_client.post(url, {**data, "severity": "info"}).status_code == 405
    rule.refresh_from_db()
    assert rule.severity == "major"


def test_retiring_only_published_version_needs_second_editor(
    editor_client, reviewer_client, editor, second_editor
):
    version = make_version()

    def step(client, name):
        url = f"/admin/checklists/templateversion/{version.pk}/workflow/{name}/"
        return client.post(url, follow=True)

    answer = step(editor_client, "retire")
    assert "retirement proposed. A second editor must confirm it" in answer.text
    version.refresh_from_db()
    assert version.status == "published" and version.retire_proposed_by == editor
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CONTENT_RETIRE_PROPOSED).exists()
    page = editor_client.get(f"/admin/checklists/templateversion/{version.pk}/change/")
    assert "Retirement proposed" in page.text and "Confirm retirement" not in page.text
    assert "cannot confirm it" in step(editor_client, "confirm-retire").text
    assert TemplateVersion.objects.get(pk=version.pk).status == "published"
    assert "Confirm retirement" in reviewer_client.get(page.wsgi_request.path).text
    step(reviewer_client, "confirm-retire")
    version.refresh_from_db()
    assert version.status == "retired"
    event = AuditEvent.objects.get(action=AuditEvent.Action.CONTENT_RETIRED)
    assert event.user == second_editor
    assert (event.detail["proposed_by"], event.detail["confirmed_by"]) == (
        "editor",
        "second_editor",
    )


def test_a_cancelled_retirement_keeps_the_version(editor_client, reviewer_client):
    version = make_version()
    base = f"/admin/checklists/templateversion/{version.pk}/workflow/"
    editor_client.post(base + "retire/")
    reviewer_client.post(base + "cancel-retire/")
    version.refresh_from_db()
    assert version.status == "published" and version.retire_proposed_by is None
    trail = AuditEvent.objects.filter(
        action__in=[
            AuditEvent.Action.CONTENT_RETIRE_PROPOSED,
            AuditEvent.Action.CONTENT_RETIRE_CANCELLED,
        ]
    ).order_by("pk")
    assert [e.action for e in trail] == ["content_retire_proposed", "content_retire_cancelled"]


def test_the_deploys_loader_writes_directly_and_is_audited():
    call_command("load_default_content", stdout=None)
    assert not KnowledgeChange.objects.exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.CONTENT_LOADED)
    assert event.user is None and event.detail["knowledge"] == 0


def test_decided_proposals_are_kept_as_they_were(editor_client, reviewer_client, rule):
    propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    decide(reviewer_client, change, "reject", "No.")
    change.refresh_from_db()
    change.comment = "Changed my mind."
    with pytest.raises(DecidedProposalError):
        change.save()
    with pytest.raises(DecidedProposalError):
        KnowledgeChange.objects.filter(pk=change.pk).update(comment="x")
    with pytest.raises(DecidedProposalError):
        KnowledgeChange.objects.all().delete()
    # The database holds the two-person rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        KnowledgeChange.objects.create(
            model_name="interactionrule",
            object_id=rule.pk,
            row_label=rule.code,
            kind="change",
            reason="Alone.",
            proposed_by=change.proposed_by,
            status="approved",
            decided_by=change.proposed_by,
            decided_at=change.proposed_at,
        )


def test_only_editors_propose_and_review(client, clinician, editor_client, rule):
    propose_edit(editor_client, rule, severity="info")
    change = KnowledgeChange.objects.get()
    login(client, clinician)
    for url in (
        f"/admin/checklists/knowledgechange/{change.pk}/change/",
        f"/admin/checklists/knowledgechange/{change.pk}/decide/approve/",
    ):
        answer = client.post(url, {"comment": ""})
        assert answer.status_code == 302 and "/admin/login/" in answer.url
    assert KnowledgeChange.objects.get().is_pending
    # Staff who may change the table but not propose see the rule read-only.
    no_propose = make_user("no_propose", role=None, is_staff=True)
    no_propose.user_permissions.set(
        Permission.objects.filter(codename__in=["view_interactionrule", "change_interactionrule"])
    )
    page = login(HttpsClient(), no_propose).get(admin_url(InteractionRule, "change/", rule.pk))
    assert page.status_code == 200 and 'name="severity"' not in page.text


def test_the_reason_is_the_proposals_summary_in_the_trail(editor_client, rule):
    propose_edit(editor_client, rule, reason="Label updated in 2026.", severity="info")
    event = AuditEvent.objects.get(action=AuditEvent.Action.KNOWLEDGE_PROPOSED)
    assert event.detail["reason"] == "Label updated in 2026."
    answer = propose_edit(editor_client, rule, reason="", severity="minor")
    assert answer.status_code == 200 and KnowledgeChange.objects.count() == 1
