"""The follow-up worklist (issue 20, point 1): the teams' cases with a review date,
grouped overdue / this week / later, each with its last signing's most serious problems;
the navigation's count."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.models import PatientCase

from .conftest import login, sign_data
from .factories import COMPLETE_ANSWERS, fill, make_case, make_response, make_user, sign

pytestmark = pytest.mark.django_db


def _due(case, days: int) -> None:
    PatientCase.objects.filter(pk=case.pk).update(
        follow_up_due=timezone.localdate() + datetime.timedelta(days=days)
    )


@pytest.fixture
def signed_case(version, team, clinician):
    """A case whose intake the clinician signed (oxycodone with kratom and melatonin: a
    serious problem frozen at signing), due for review tomorrow."""
    case = make_case(team, clinician, reference="FU-SIGNED")
    response = make_response(case, clinician)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    plan = {**COMPLETE_ANSWERS["plan_and_monitoring"], "follow_up_date": tomorrow.isoformat()}
    fill(response, clinician, {**COMPLETE_ANSWERS, "plan_and_monitoring": plan})
    sign(response, clinician)
    return case


def test_anonymous_is_sent_to_log_in(client):
    answer = client.get(reverse("follow_up_list"))
    assert answer.status_code == 302
    assert "/accounts/login/" in answer["Location"]


def test_cases_are_grouped_soonest_first_with_the_last_signing_problems(
    clinician_client, signed_case, team, clinician
):
    late, soon, later = (make_case(team, clinician, reference=r) for r in ("LATE", "SOON", "LATER"))
    _due(late, -3)
    _due(soon, 2)
    _due(later, 30)
    make_case(team, clinician, reference="NO-DATE")
    page = clinician_client.get(reverse("follow_up_list"))
    assert page.status_code == 200
    groups = {g.key: [r.case.reference for r in g.rows] for g in page.context["groups"]}
    assert groups == {"overdue": ["LATE"], "week": ["FU-SIGNED", "SOON"], "later": ["LATER"]}
    row = page.context["groups"][1].rows[0]
    assert row.problems and row.problems[0].severity in ("contraindicated", "major")
    assert row.signer == "clinician"
    text = page.content.decode()
    assert "3 days overdue" in text
    assert row.problems[0].title in text
    assert "NO-DATE" not in text


def test_an_outsider_never_sees_another_team(outsider_client, signed_case):
    page = outsider_client.get(reverse("follow_up_list"))
    assert page.status_code == 200
    assert page.context["groups"] == []
    assert "FU-SIGNED" not in page.content.decode()


def test_the_clinician_filter_keeps_who_signed_last(client, signed_case, team, clinician):
    colleague = make_user("colleague", teams=[team])
    other = make_case(team, colleague, reference="BY-COLLEAGUE")
    response = make_response(other, colleague)
    fill(response, colleague)
    sign(response, colleague)
    login(client, colleague)
    url = reverse("follow_up_list")
    every = [r.case.reference for g in client.get(url).context["groups"] for r in g.rows]
    assert sorted(every) == ["BY-COLLEAGUE", "FU-SIGNED"]
    mine = client.get(url, {"clinician": colleague.pk}).context["groups"]
    assert [r.case.reference for g in mine for r in g.rows] == ["BY-COLLEAGUE"]
    # Someone not on the user's teams is no filter at all.
    stranger = make_user("stranger")
    assert client.get(url, {"clinician": stranger.pk}).context["chosen"] is None


@pytest.mark.parametrize("persona", ["supervisor_client", "auditor_client"])
def test_supervisors_and_auditors_read_it_without_the_start_button(request, persona, signed_case):
    page = request.getfixturevalue(persona).get(reverse("follow_up_list"))
    assert page.status_code == 200
    assert "FU-SIGNED" in page.content.decode()
    assert "Start follow-up review" not in page.content.decode()


def test_the_clinician_can_start_a_follow_up_from_the_worklist(clinician_client, signed_case):
    page = clinician_client.get(reverse("follow_up_list")).content.decode()
    assert reverse("checklist_start", args=[signed_case.pk]) in page
    assert 'name="template" value="follow-up"' in page


def test_the_navigation_counts_what_is_due_today_or_earlier(
    clinician_client, colleague, team, clinician
):
    for days, ref in ((-5, "A"), (0, "B"), (1, "C")):
        _due(make_case(team, clinician, reference=ref), days)
    page = clinician_client.get(reverse("case_list")).content.decode()
    assert "Follow-ups: 2 due" in page


def test_no_count_in_the_navigation_when_nothing_is_due(clinician_client):
    page = clinician_client.get(reverse("case_list")).content.decode()
    assert ">Follow-ups</a>" in page
    assert "due</a>" not in page


def test_the_reminder_command_lists_what_is_due_per_clinician(signed_case, team, clinician):
    import io

    from django.core.management import call_command

    far = make_case(team, clinician, reference="FAR")
    _due(far, 30)
    _due(signed_case, -2)
    out = io.StringIO()
    call_command("followups_due", "--days", "7", stdout=out)
    text = out.getvalue()
    assert "Follow-ups due by" in text and ": 1" in text
    assert f"case {signed_case.pk}" in text and "overdue 2 d" in text
    assert "clinician: 1" in text
    assert f"case {far.pk} " not in text
    # Named by id and team only: the output may be mailed or logged.
    assert "FU-SIGNED" not in text


def test_the_reminder_command_refuses_a_negative_window(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("followups_due", "--days", "-1")


def test_the_navigation_count_stops_at_its_cap(clinician_client, team, clinician, monkeypatch):
    from checklists.followups import worklist

    monkeypatch.setattr(worklist, "DUE_COUNT_CAP", 2)
    for ref in ("A", "B", "C"):
        _due(make_case(team, clinician, reference=ref), -1)
    assert "Follow-ups: 2+ due" in clinician_client.get(reverse("case_list")).content.decode()


def test_follow_ups_count_is_kept_in_the_session(clinician_client, case, clinician, version, team):
    """Counted on a session's first page and kept two minutes (a query on every page cost
    the case list a sixth of its speed); signing, which sets a follow-up date, recounts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from checklists.context_processors import FOLLOW_UPS_COUNT_SECONDS, FOLLOW_UPS_KEY

    def counts_due() -> bool:
        with CaptureQueriesContext(connection) as captured:
            page = clinician_client.get(reverse("case_list")).content.decode()
        counted = any("follow_up_due" in q["sql"] and "COUNT" in q["sql"] for q in captured)
        return counted, page

    _due(make_case(team, clinician, reference="DUE-1"), -1)
    counted, page = counts_due()
    assert counted and "Follow-ups: 1 due" in page
    _due(make_case(team, clinician, reference="DUE-2"), -1)
    counted, page = counts_due()
    assert not counted and "Follow-ups: 1 due" in page  # kept: not recounted yet
    # Two minutes on, it is counted again.
    session = clinician_client.session
    session[FOLLOW_UPS_KEY] = {
        **session[FOLLOW_UPS_KEY],
        "at": session[FOLLOW_UPS_KEY]["at"] - FOLLOW_UPS_COUNT_SECONDS - 1,
    }
    session.save()
    counted, page = counts_due()
    assert counted and "Follow-ups: 2 due" in page
    # Signing a checklist whose plan sets today's date: the next page counts it at once.
    response = make_response(case, clinician)
    fill(response, clinician)
    signed = clinician_client.post(
        reverse("sign", args=[response.pk]), sign_data(clinician_client, response)
    )
    assert signed.status_code == 302
    counted, _ = counts_due()
    assert counted


def test_the_signer_is_named_as_at_signing_even_after_leaving_the_team(
    clinician_client, version, team, clinician
):
    """The worklist names who signed as the record does (issue 20): a colleague who signed
    with their profile and then left the team is still named, not "a former team member"."""
    from accounts.models import Profile

    colleague = make_user("leaver", teams=[team])
    Profile.objects.create(user=colleague, full_name="Sam Okafor", credential="RN")
    case = make_case(team, clinician, reference="FU-LEAVER")
    response = make_response(case, colleague)
    fill(response, colleague)
    sign(response, colleague)
    _due(case, 1)
    team.members.remove(colleague)
    Profile.objects.filter(user=colleague).update(full_name="Sam Okafor-Lee")
    page = clinician_client.get(reverse("follow_up_list"))
    (row,) = [r for g in page.context["groups"] for r in g.rows]
    assert row.signer == "Sam Okafor, RN"
    assert "Sam Okafor, RN" in page.content.decode()


def test_problems_keep_the_signing_pages_order_and_skip_malformed_rows():
    """The worklist and the timeline list a snapshot's problems as the signing page did:
    most serious first, then by code (screening.flags), whatever their titles."""
    from checklists.followups.problems import most_serious, problems

    snapshot = [
        {"code": "b-problem", "severity": "major", "title": "A title first in the alphabet"},
        {"code": "a-problem", "severity": "major", "title": "Z title last in the alphabet"},
        {"code": "c-problem", "severity": "contraindicated", "title": "M title"},
        {"code": "", "severity": "major", "title": "no code"},
        {"code": "d-problem", "severity": "unheard-of", "title": "from a future version"},
        "not a row",
    ]
    assert [p.code for p in problems(snapshot)] == ["c-problem", "a-problem", "b-problem"]
    assert [p.code for p in most_serious(snapshot[:2])] == ["a-problem", "b-problem"]
    assert most_serious(None) == []
