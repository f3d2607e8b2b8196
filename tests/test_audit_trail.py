"""Who sees which audit events, and what writes them (issue 15, points 4 and 5).

Two clinics: North (the clinician, the colleague, the supervisor, the auditor) and South
(the outsider and South's own auditor). An auditor reads their own teams' trail; every
look at a checklist's answers or at the trail, and every change to who may do what, is
written with the actor and their address.
"""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checklists import audit
from checklists.models import AuditEvent
from checklists.roles import AUDITOR, CLINICIAN, ensure_roles

from .conftest import HttpsClient, login
from .factories import fill, make_case, make_editor, make_response, make_user, sign

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.44"
SECRET_REASON = "Dose was wrong: patient Jane Example told us on the phone"
SECRET_COMMENT = "Recheck with the pharmacist of Jane Example"


@pytest.fixture
def south_auditor(other_team):
    return make_user("south_auditor", role=AUDITOR, teams=[other_team])


@pytest.fixture
def south_case(other_team, outsider):
    return make_case(other_team, outsider, reference="MRN-2002")


@pytest.fixture
def trail(client, case, south_case, clinician, outsider, version):
    """Each clinic's clinician signs in and opens their case; an editor on South publishes
    content (which concerns no patient)."""
    for user, each in ((clinician, case), (outsider, south_case)):
        visitor = login(HttpsClient(), user)
        assert visitor.get(reverse("case_detail", args=[each.pk])).status_code == 200
    editor = make_editor("south_editor")
    south_case.team.members.add(editor)
    audit.record(AuditEvent.Action.CONTENT_PUBLISHED, user=editor, detail={"version": 2})


def listed(client, **filters) -> list[AuditEvent]:
    page = client.get(reverse("audit"), filters)
    assert page.status_code == 200
    return list(page.context["page"].paginator.object_list)


def exported(client, **filters) -> list[dict]:
    answer = client.get(reverse("audit"), {**filters, "format": "csv"})
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))


def details(rows: list[dict]) -> str:
    return " ".join(r["detail"] for r in rows)


# --- Point 4: each auditor reads their own teams' trail -------------------------------


def test_auditor_sees_only_own_team_events(trail, auditor, case, south_case):
    events = listed(login(HttpsClient(), auditor))
    case_ids = {e.case_id for e in events if e.case_id is not None}
    assert case_ids == {case.pk}
    names = {e.username for e in events}
    assert "clinician" in names and "outsider" not in names
    # South's membership changes are South's; content concerns every clinic.
    teams = {e.object_id for e in events if e.action == "team_membership_changed"}
    assert teams == {str(case.team_id)}
    assert any(e.action == "content_published" for e in events)
    # Filtering by the other clinic's case finds nothing.
    assert listed(login(HttpsClient(), auditor), case=south_case.pk) == []


def test_audit_csv_scoped_to_own_teams(trail, auditor, south_auditor, case, south_case):
    rows = exported(login(HttpsClient(), auditor))
    assert {r["case_id"] for r in rows if r["case_id"]} == {str(case.pk)}
    assert "outsider" not in {r["user"] for r in rows}
    south_rows = exported(login(HttpsClient(), south_auditor))
    assert {r["case_id"] for r in south_rows if r["case_id"]} == {str(south_case.pk)}
    assert "clinician" not in {r["user"] for r in south_rows}


def test_teamless_staff_auditor_sees_no_clinical_events(trail, teamless_auditor, team, case):
    teamless_auditor.is_staff = True
    teamless_auditor.save(update_fields=["is_staff"])
    client = login(HttpsClient(), teamless_auditor)
    events = listed(client)
    assert [e for e in events if e.case_id is not None] == []
    assert "clinician" not in {e.username for e in events}
    assert {e.action for e in events} & {"content_published"}  # content is no one's patient
    admin_list = client.get("/admin/checklists/auditevent/", {"action__exact": "case_viewed"})
    assert admin_list.status_code == 200
    assert admin_list.context["cl"].result_count == 0
    # Given a team, they read its trail.
    team.members.add(teamless_auditor)
    assert case.pk in {e.case_id for e in listed(client)}
    admin_list = client.get("/admin/checklists/auditevent/", {"action__exact": "case_viewed"})
    assert admin_list.context["cl"].result_count == 1


def test_free_text_hidden_from_viewers_without_case_access(
    case, clinician, supervisor, auditor, south_auditor, version
):
    response = make_response(case, clinician)
    fill(response, clinician)
    sign(response, clinician)
    supervising = login(HttpsClient(), supervisor)
    supervising.post(
        reverse("return_for_amendment", args=[response.pk]), {"comment": SECRET_COMMENT}
    )
    login(HttpsClient(), clinician).post(
        reverse("amend", args=[response.pk]), {"reason": SECRET_REASON}
    )
    amended = AuditEvent.objects.get(action="checklist_amended")
    returned = AuditEvent.objects.get(action="checklist_returned")
    # The rule itself, asked of events read without the trail's scope.
    from checklists.access import can_read_event_text

    for event in (amended, returned):
        assert can_read_event_text(auditor, event)
        assert not can_read_event_text(south_auditor, event)
    assert amended.detail_shown(with_text=False)["reason"] == AuditEvent.HIDDEN_TEXT
    # South's auditor finds no trace of the text on the page, in the CSV or in the admin.
    south = login(HttpsClient(), south_auditor)
    for secret in (SECRET_REASON, SECRET_COMMENT):
        assert secret not in south.get(reverse("audit")).content.decode()
        assert secret not in details(exported(south))
    south_auditor.is_staff = True
    south_auditor.save(update_fields=["is_staff"])
    admin_page = south.get(f"/admin/checklists/auditevent/{amended.pk}/change/", follow=True)
    assert SECRET_REASON not in admin_page.content.decode()
    # North's auditor, who may see the case, reads it, in the admin too.
    north = login(HttpsClient(), auditor)
    assert SECRET_REASON in north.get(reverse("audit")).content.decode()
    assert SECRET_COMMENT in details(exported(north, case=case.pk))
    auditor.is_staff = True
    auditor.save(update_fields=["is_staff"])
    admin_page = north.get(f"/admin/checklists/auditevent/{amended.pk}/change/")
    assert SECRET_REASON in admin_page.content.decode()


# --- Point 5: what is written ---------------------------------------------------------

ANSWER_PAGES = {
    "section": (
        lambda r: reverse("section", args=[r.pk, "individual_variability"]),
        "checklist_viewed",
        {"page": "section", "section": "individual_variability"},
    ),
    "review": (lambda r: reverse("review", args=[r.pk]), "checklist_viewed", {"page": "review"}),
    "changes": (
        lambda r: reverse("response_changes", args=[r.pk]),
        "checklist_viewed",
        {"page": "changes"},
    ),
    "print": (lambda r: reverse("export_print", args=[r.pk]), "export_print", None),
    "note.txt": (lambda r: reverse("export_note_txt", args=[r.pk]), "export_text_note", None),
    "pdf": (lambda r: reverse("export_note_pdf", args=[r.pk]), "export_pdf", None),
    "fhir": (lambda r: reverse("export_fhir", args=[r.pk]), "export_fhir", None),
}


@pytest.mark.parametrize("page", list(ANSWER_PAGES))
def test_every_answer_page_is_audited(clinician_client, clinician, case, version, page):
    response = make_response(case, clinician)
    fill(response, clinician)
    url, action, detail = ANSWER_PAGES[page]
    last = AuditEvent.objects.latest("id").pk
    assert clinician_client.get(url(response), REMOTE_ADDR=ADDRESS).status_code == 200
    event = AuditEvent.objects.get(pk__gt=last)
    assert (event.action, event.user, event.ip_address) == (action, clinician, ADDRESS)
    assert (event.object_id, event.case_id) == (str(response.pk), case.pk)
    if detail is not None:
        assert event.detail == detail


def test_audit_page_view_is_audited(trail, auditor):
    client = login(HttpsClient(), auditor)
    client.get(reverse("audit"), {"user": "clinician", "action": "login"}, REMOTE_ADDR=ADDRESS)
    viewed = AuditEvent.objects.get(action="audit_viewed")
    assert (viewed.user, viewed.ip_address) == (auditor, ADDRESS)
    assert viewed.detail == {"filters": {"user": "clinician", "action": "login"}, "page": 1}
    exported(client, case=7)
    assert AuditEvent.objects.get(action="audit_exported").detail == {"filters": {"case": "7"}}


# session, user, device, the user's permissions (2), the count, the page of events (team,
# case and people scopes are subqueries of it) and the insert of the view's own event.
AUDIT_PAGE_QUERIES = 8


@pytest.mark.parametrize("extra_cases", [1, 30])
def test_audit_page_query_count_is_pinned(trail, auditor, team, clinician, extra_cases):
    for n in range(extra_cases):
        make_case(team, clinician, reference=f"Q-{n}")
    client = login(HttpsClient(), auditor)
    client.get(reverse("audit"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("audit"), {"action": "case_created"}).status_code == 200
    queries = [q for q in captured if "SAVEPOINT" not in q["sql"]]
    assert len(queries) == AUDIT_PAGE_QUERIES, "\n".join(q["sql"][:120] for q in queries)


def team_form(team, members) -> dict:
    return {"name": team.name, "members": [m.pk for m in members]}


def test_team_membership_change_in_admin_is_audited_with_actor_and_ip(
    admin_client, admin_user, team, clinician, outsider
):
    url = f"/admin/checklists/team/{team.pk}/change/"
    added = admin_client.post(url, team_form(team, [clinician, outsider]), REMOTE_ADDR=ADDRESS)
    assert added.status_code == 302
    admin_client.post(url, team_form(team, [outsider]), REMOTE_ADDR=ADDRESS)
    events = AuditEvent.objects.filter(action="team_membership_changed", user=admin_user).order_by(
        "id"
    )
    assert [(e.object_type, e.object_id, e.ip_address) for e in events] == [
        ("team", str(team.pk), ADDRESS)
    ] * 2
    assert events[0].detail == {
        "team": team.name,
        "added": [{"id": outsider.pk, "username": "outsider"}],
    }
    assert events[1].detail == {
        "team": team.name,
        "removed": [{"id": clinician.pk, "username": "clinician"}],
    }
    # From the other side, outside a request (the shell, a command): no actor, and said so.
    clinician.teams.add(team)
    last = AuditEvent.objects.filter(action="team_membership_changed").latest("id")
    assert (last.user, last.object_id) == (None, str(team.pk))
    assert last.detail["via"] == "outside a request"
    team.members.clear()
    cleared = AuditEvent.objects.filter(action="team_membership_changed").latest("id")
    assert {u["username"] for u in cleared.detail["removed"]} == {"clinician", "outsider"}


def user_form(user, **changes) -> dict:
    """What Django's user admin posts for `user`, with `changes`."""
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": [],
        # The profile inline (issue 19), left blank: nothing saved for it.
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def test_staff_and_superuser_changes_audited(admin_client, admin_user, clinician):
    url = f"/admin/auth/user/{clinician.pk}/change/"
    saved = admin_client.post(
        url, user_form(clinician, is_staff="on", is_superuser="on"), REMOTE_ADDR=ADDRESS
    )
    assert saved.status_code == 302
    event = AuditEvent.objects.get(action="staff_status_changed", object_id=str(clinician.pk))
    assert (event.user, event.ip_address) == (admin_user, ADDRESS)
    assert event.detail == {
        "object": "clinician",
        "is_staff": [False, True],
        "is_superuser": [False, True],
    }
    # A save that changes neither writes nothing; one outside a request says so.
    admin_client.post(url, user_form(clinician, is_staff="on", is_superuser="on"))
    clinician.refresh_from_db()
    clinician.is_superuser = False
    clinician.save()
    events = AuditEvent.objects.filter(action="staff_status_changed", object_id=str(clinician.pk))
    assert [e.detail for e in events.order_by("id")][1:] == [
        {"object": "clinician", "is_superuser": [True, False], "via": "outside a request"}
    ]


def test_group_change_has_actor(admin_client, admin_user, clinician):
    auditors = ensure_roles()[AUDITOR]
    clinicians = ensure_roles()[CLINICIAN]
    url = f"/admin/auth/user/{clinician.pk}/change/"
    saved = admin_client.post(
        url, user_form(clinician, groups=[clinicians.pk, auditors.pk]), REMOTE_ADDR=ADDRESS
    )
    assert saved.status_code == 302
    event = AuditEvent.objects.filter(action="groups_changed", user=admin_user).get()
    assert event.ip_address == ADDRESS
    assert (event.object_id, event.detail["change"], event.detail["groups"]) == (
        str(clinician.pk),
        "post_add",
        [auditors.pk],
    )
    clinician.groups.remove(auditors)
    outside = AuditEvent.objects.filter(action="groups_changed").latest("id")
    assert (outside.user, outside.detail["via"]) == (None, "outside a request")


def test_save_conflict_is_audited(clinician_client, colleague, case, clinician, version):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "individual_variability"])
    opened = response.lock_version
    data = {"pregnant": "no", "age_years": "40", "lock_version": opened, "stay": "1"}
    assert clinician_client.post(url, data).status_code == 302
    late = login(HttpsClient(), colleague)
    refused = late.post(url, {**data, "age_years": "41"}, REMOTE_ADDR=ADDRESS)
    assert refused.status_code == 409
    late.post(url, {**data, "age_years": "42"}, HTTP_HX_REQUEST="true")
    events = AuditEvent.objects.filter(action="save_conflict").order_by("id")
    assert [(e.user, e.case_id, e.object_id) for e in events] == [
        (colleague, case.pk, str(response.pk))
    ] * 2
    assert events[0].ip_address == ADDRESS
    assert events[0].detail == {
        "during": "section",
        "lock_version": opened,
        "current": opened + 1,
        "section": "individual_variability",
    }
    assert events[1].detail["during"] == "autosave"
