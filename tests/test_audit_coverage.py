"""Every action the audit page's filter offers is written by some path (issue 15, point 5).

The filter lists `AuditEvent.Action`, so a new action is offered at once; an action that
nothing writes is a filter that always answers "nothing happened". The scenario below
drives the application's own paths (pages through the test client as the personas; the
write functions and management commands where no page exists), never `audit.record` and
never an AuditEvent made by hand, and then asks that each action was written, counting only
the events written after the personas were set up.
"""

import io
import re
import shutil

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db.models import Max
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from checklists.authoring import files
from checklists.models import (
    AuditEvent,
    CertificateOfAnalysis,
    ChecklistResponse,
    InteractionRule,
    KnowledgeChange,
    Lot,
    PatientCase,
    TemplateVersion,
)
from checklists.roles import AUDITOR, ensure_roles

from .conftest import HttpsClient, login, sign_data
from .factories import PASSWORD, fill, make_totp_device, recovery_code, totp_code
from .test_account_takeover import NEW_PASSWORD, PASSWORD_PAGE, RECOVERY, SETUP, VERIFY, post_login
from .test_audit_trail import team_form, user_form
from .test_exports import PER_RESPONSE
from .test_knowledge_review import OPIOID, decide, propose_edit
from .test_legal_lab import media, real_pdf, upload  # noqa: F401 (media: a fixture)

pytestmark = pytest.mark.django_db

ALL_ACTIONS = set(AuditEvent.Action.values)


def test_the_filter_offers_exactly_the_recorded_actions(auditor_client):
    """No action can hide from the filter, and it offers nothing that is not an action."""
    page = auditor_client.get(reverse("audit"))
    assert page.status_code == 200
    offered = page.context["form"].fields["action"].choices
    assert offered == [("", "Any action"), *AuditEvent.Action.choices]
    # And the page's own <select> holds those values, nothing more.
    select = re.search(r'<select name="action".*?</select>', page.text, re.DOTALL).group()
    values = re.findall(r'<option value="([^"]*)"', select)
    assert values == ["", *AuditEvent.Action.values]


# --- The steps, each through the paths a person (or the deploy) takes -----------------------


def sign_in_events(clinician):
    """A wrong password, the right one, a wrong code, a recovery code, signing out."""
    make_totp_device(clinician)
    client = HttpsClient()
    assert post_login(client, "not the password").status_code == 200
    assert post_login(client).status_code == 302
    assert client.post(VERIFY, {"otp_token": "000000"}).status_code == 200
    assert client.post(VERIFY, {"otp_token": recovery_code(clinician)}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302


def lockout(user):
    client = HttpsClient()
    for guess in range(5):
        client.post(reverse("login"), {"username": user.username, "password": f"guess {guess}"})
    locked = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429


def case_and_checklist_events(clinician, colleague, team) -> ChecklistResponse:
    """A case made, viewed and changed; a checklist started, viewed, a section saved, a
    colleague's save from the same page state refused; the rest filled in."""
    client = login(HttpsClient(), clinician)
    new = {"team": team.pk, "reference": "MRN-77", "initials": "", "birth_year": ""}
    assert client.post(reverse("case_new"), {**new, "jurisdiction": ""}).status_code == 302
    case = PatientCase.objects.get(reference="MRN-77")
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    changed = {"initials": "QZ", "birth_year": "1990", "jurisdiction": "US-TX"}
    assert client.post(reverse("case_edit", args=[case.pk]), changed).status_code == 302
    assert client.post(reverse("checklist_start", args=[case.pk])).status_code == 302
    response = ChecklistResponse.objects.get(case=case)
    assert client.get(reverse("response_detail", args=[response.pk])).status_code == 200
    url = reverse("section", args=[response.pk, "individual_variability"])
    opened = {"pregnant": "no", "age_years": "40", "lock_version": response.lock_version}
    assert client.post(url, opened).status_code == 302
    late = login(HttpsClient(), colleague).post(url, {**opened, "age_years": "41"})
    assert late.status_code == 409
    fill(response, clinician)
    return response


def signing_events(clinician, supervisor, response) -> ChecklistResponse:
    """Signing refused (wrong password), signed, returned by the supervisor, amended; the
    amendment's draft is returned."""
    client = login(HttpsClient(), clinician)
    url = reverse("sign", args=[response.pk])
    wrong = sign_data(client, response, password="not my password")
    assert client.post(url, wrong).status_code == 400
    assert client.post(url, sign_data(client, response)).status_code == 302
    back = reverse("return_for_amendment", args=[response.pk])
    comment = {"comment": "Legal check date missing"}
    assert login(HttpsClient(), supervisor).post(back, comment).status_code == 302
    amend = client.post(reverse("amend", args=[response.pk]), {"reason": "Wrong dose"})
    assert amend.status_code == 302
    return ChecklistResponse.objects.get(amends=response)


def export_events(clinician, auditor, response):
    """The four per-checklist exports, the bulk CSV page and the command's FHIR NDJSON."""
    client = login(HttpsClient(), clinician)
    for name in PER_RESPONSE:
        assert client.get(reverse(name, args=[response.pk])).status_code == 200, name
    bulk = login(HttpsClient(), auditor).get(reverse("export_responses_csv"))
    assert bulk.status_code == 200 and b"".join(bulk.streaming_content)
    call_command("export_responses", "--format", "fhir-ndjson", stdout=io.StringIO())


def audit_views(auditor):
    client = login(HttpsClient(), auditor)
    assert client.get(reverse("audit"), {"action": "login"}).status_code == 200
    exported = client.get(reverse("audit"), {"format": "csv"})
    assert exported.status_code == 200 and b"".join(exported.streaming_content)


def pdf_that_runs_javascript() -> bytes:
    """A one-page PDF whose /OpenAction runs JavaScript as soon as it is opened."""
    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=200, height=200)
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )
    writer.write(buffer)
    return buffer.getvalue()


def supplier_events(clinician, team):
    """A lot recorded, a certificate uploaded and downloaded, one that acts refused."""
    client = login(HttpsClient(), clinician)
    fields = {"team": team.pk, "supplier": "Leafy Co", "product": "Green Maeng Da"}
    fields |= {"substance": "kratom", "form": "leaf_powder", "lot_number": "K-100"}
    assert client.post(reverse("lot_list"), fields).status_code == 302
    lot = Lot.objects.get(lot_number="K-100")
    assert upload(client, lot, "coa.pdf", real_pdf()).status_code == 302
    coa = CertificateOfAnalysis.objects.get(lot=lot)
    download = client.get(reverse("coa_download", args=[coa.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content)
    refused = upload(client, lot, "acting.pdf", pdf_that_runs_javascript())
    assert refused.status_code == 400
    assert CertificateOfAnalysis.objects.filter(lot=lot).count() == 1  # the first one only


# What each deliberate step posts with it (issue 21): a summary, a tick, a comment.
STEP_DATA = {
    "submit": {"summary": "Clearer wording."},
    "return": {"comment": "Cite the label."},
    "approve": {"reviewed": "on"},
}


def workflow_step(client, version, step):
    answer = client.post(
        f"/admin/checklists/templateversion/{version.pk}/workflow/{step}/", STEP_DATA.get(step, {})
    )
    assert answer.status_code == 302, step


def content_workflow(editor, second_editor, clinician, v1, old_draft) -> TemplateVersion:
    """v2 drafted, submitted, sent back, submitted, approved by a second editor; the draft
    still on v1 restarted on it. The published v2 is returned."""
    mine, theirs = login(HttpsClient(), editor), login(HttpsClient(), second_editor)
    workflow_step(mine, v1, "new-draft")
    v2 = TemplateVersion.objects.get(template=v1.template, number=v1.number + 1)
    for client, step in ((mine, "submit"), (theirs, "return"), (mine, "submit")):
        workflow_step(client, v2, step)
    workflow_step(theirs, v2, "approve")
    v2.refresh_from_db()
    assert v2.status == TemplateVersion.Status.PUBLISHED
    restart = reverse("response_restart", args=[old_draft.pk])
    old_draft.refresh_from_db()
    login(HttpsClient(), clinician).post(restart, {"lock_version": old_draft.lock_version})
    assert ChecklistResponse.objects.filter(restarted_from=old_draft).exists()
    return v2


def retirement(editor, second_editor, version):
    """Retiring proposed, cancelled by a second editor, proposed again and confirmed."""
    mine, theirs = login(HttpsClient(), editor), login(HttpsClient(), second_editor)
    steps = [(mine, "retire"), (theirs, "cancel-retire"), (mine, "retire")]
    for client, step in [*steps, (theirs, "confirm-retire")]:
        workflow_step(client, version, step)
    version.refresh_from_db()
    assert version.status == TemplateVersion.Status.RETIRED


def knowledge_events(editor, second_editor):
    """Three proposals to one rule: one approved, one rejected, one withdrawn."""
    mine, theirs = login(HttpsClient(), editor), login(HttpsClient(), second_editor)
    rule = InteractionRule.objects.get(code=OPIOID)
    for severity in ("info", "minor", "moderate"):
        assert propose_edit(mine, rule, severity=severity).status_code == 302
    approved, rejected, withdrawn = KnowledgeChange.objects.order_by("pk")
    decide(theirs, approved, "approve")
    decide(theirs, rejected, "reject", "The label still warns.")
    decide(mine, withdrawn, "withdraw", "Proposed twice.")
    statuses = list(KnowledgeChange.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["approved", "rejected", "withdrawn"]


def release_events(second_editor, tmp_path):
    """Two deploys bring changed knowledge files (`load_default_content`'s step, on a copy of
    the content directory); an editor approves the first release and rejects the second."""
    from checklists.authoring import release

    from .test_release import approve_page, edit, opioid_rule_says

    content = tmp_path / "content"
    shutil.copytree(files.CONTENT_DIR, content)
    client = login(HttpsClient(), second_editor)
    for severity, step, comment in [("moderate", "approve", ""), ("minor", "reject", "No.")]:
        edit(content, "knowledge/interactions.json", opioid_rule_says(severity, "Changed."))
        pending = release.record_release(content).release
        assert approve_page(client, pending, step, comment).status_code == 302


def content_import_and_load():
    """The operator's import of a checklist file and the deploy's loader (no pages)."""
    default = str(files.CONTENT_DIR / "default_checklist.json")
    call_command("import_content", default, stdout=io.StringIO())
    call_command("load_default_content", stdout=io.StringIO())


def account_events(user, admin_client):
    """The password refused and changed, a new authenticator, new recovery codes, all from
    the owner's session; then an administrator removes the authenticator."""
    client = login(HttpsClient(), user)
    change = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    wrong = {**change, "old_password": "not my password", "current_code": "000000"}
    assert client.post(PASSWORD_PAGE, wrong).status_code == 200
    right = {**change, "old_password": PASSWORD, "current_code": recovery_code(user)}
    assert client.post(PASSWORD_PAGE, right).status_code == 302
    client.get(SETUP)
    app = TOTPDevice.objects.get(user=user, confirmed=False)
    proof = {"password": NEW_PASSWORD, "current_code": recovery_code(user)}
    assert client.post(SETUP, {**proof, "otp_token": totp_code(app)}).status_code == 200
    proof = {"password": NEW_PASSWORD, "current_code": recovery_code(user)}
    assert client.post(RECOVERY, proof).status_code == 200
    delete = f"/admin/otp_totp/totpdevice/{app.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302


def people_events(admin_client, user, team):
    """In the admin: `user` added to `team`; made staff, an auditor, given a permission."""
    members = [*team.members.all(), user]
    team_page = f"/admin/checklists/team/{team.pk}/change/"
    assert admin_client.post(team_page, team_form(team, members)).status_code == 302
    groups = [*user.groups.values_list("pk", flat=True), ensure_roles()[AUDITOR].pk]
    permission = Permission.objects.get(codename="view_auditevent")
    data = user_form(user, is_staff="on", groups=groups, user_permissions=[permission.pk])
    # ...and their name and credentials set in the profile inline (issue 19).
    data.update({"profile-0-full_name": "Lee Marsh", "profile-0-credential": "MD"})
    assert admin_client.post(f"/admin/auth/user/{user.pk}/change/", data).status_code == 302


@pytest.mark.usefixtures("media")
def test_every_action_the_filter_offers_is_written_by_some_path(
    clinician,
    colleague,
    supervisor,
    auditor,
    outsider,
    editor,
    second_editor,
    admin_client,
    team,
    version,
    tmp_path,
):
    """One scenario through every path that writes an event. Only the events written from
    here on count: setting up the personas (as the shell would) already writes group, team
    and staff events outside a request, which would cover those actions with no path."""
    before = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    sign_in_events(clinician)
    lockout(outsider)
    response = case_and_checklist_events(clinician, colleague, team)
    amendment = signing_events(clinician, supervisor, response)
    export_events(clinician, auditor, response)
    audit_views(auditor)
    supplier_events(clinician, team)
    v2 = content_workflow(editor, second_editor, clinician, version, amendment)
    retirement(editor, second_editor, v2)
    knowledge_events(editor, second_editor)
    release_events(second_editor, tmp_path)
    content_import_and_load()
    account_events(colleague, admin_client)
    people_events(admin_client, outsider, team)
    written = set(AuditEvent.objects.filter(pk__gt=before).values_list("action", flat=True))
    missing, unknown = sorted(ALL_ACTIONS - written), sorted(written - ALL_ACTIONS)
    assert written == ALL_ACTIONS, f"never written: {missing}; not in the filter: {unknown}"
