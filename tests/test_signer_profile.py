"""Who signed (issue 19 point 2): the profile a user edits, "Signing as" on the sign
page, and the name frozen with the signed revision in every export."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import Profile
from checklists.demo.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from checklists.models import AuditEvent, ChecklistResponse

from .conftest import sign_data
from .factories import fill, make_response

pytestmark = pytest.mark.django_db

DANA = {
    "full_name": "Dana Reyes",
    "credential": "PharmD",
    "credential_other": "",
    "registration_number": "RPh-4411",
}


def _save_profile(client, **values):
    return client.post(reverse("profile"), {**DANA, **values})


def test_anonymous_is_sent_to_login(client):
    answer = client.get(reverse("profile"))
    assert answer.status_code == 302 and reverse("login") in answer["Location"]


def test_the_account_menu_links_to_the_profile(clinician_client):
    page = clinician_client.get(reverse("case_list")).content.decode()
    assert f'href="{reverse("profile")}"' in page


def test_a_clinician_saves_their_name_and_credentials_and_it_is_audited(
    clinician_client, clinician
):
    answer = _save_profile(clinician_client)
    assert answer.status_code == 302 and answer["Location"] == reverse("profile")
    profile = Profile.objects.get(user=clinician)
    assert profile.signature() == "Dana Reyes, PharmD"
    assert profile.registration_number == "RPh-4411"
    event = AuditEvent.objects.filter(action="profile_changed").get()
    assert event.user == clinician and event.object_id == str(clinician.pk)
    assert set(event.detail["changed"]) >= {"full_name", "credential"}
    assert "Dana" not in str(event.detail)  # the fields changed, not their values
    page = clinician_client.get(reverse("profile")).content.decode()
    assert "Dana Reyes, PharmD" in page


def test_other_credentials_need_their_text(clinician_client, clinician):
    answer = _save_profile(clinician_client, credential="other")
    assert answer.status_code == 200
    assert not Profile.objects.filter(user=clinician).exists()
    _save_profile(clinician_client, credential="other", credential_other="MBBS, FRCP")
    assert Profile.objects.get(user=clinician).signature() == "Dana Reyes, MBBS, FRCP"


def test_text_of_other_is_dropped_for_a_listed_credential(clinician_client, clinician):
    _save_profile(clinician_client, credential="RN", credential_other="left over")
    assert Profile.objects.get(user=clinician).credential_other == ""


def test_a_profile_is_a_users_own(clinician_client, clinician, colleague):
    """The page edits the signed-in user's profile only: a posted user id is ignored."""
    _save_profile(clinician_client, user=colleague.pk)
    assert Profile.objects.filter(user=clinician).exists()
    assert not Profile.objects.filter(user=colleague).exists()


def test_the_admin_edits_a_profile_inline(admin_client, clinician):
    page = admin_client.get(reverse("admin:auth_user_change", args=[clinician.pk]))
    assert page.status_code == 200
    assert "profile-0-full_name" in page.content.decode()


def _draft(case, user):
    response = make_response(case, user)
    fill(response, user)
    return response


def test_the_sign_page_says_who_is_signing(clinician_client, clinician, case, version):
    response = _draft(case, clinician)
    page = clinician_client.get(reverse("review", args=[response.pk])).content.decode()
    assert "Signing as <strong>clinician</strong>" in page  # no profile: the username
    _save_profile(clinician_client)
    page = clinician_client.get(reverse("review", args=[response.pk])).content.decode()
    assert "Signing as <strong>Dana Reyes, PharmD</strong>" in page


def test_a_signed_note_keeps_the_name_it_was_signed_with(
    clinician_client, clinician, supervisor_client, case, version
):
    _save_profile(clinician_client)
    response = _draft(case, clinician)
    answer = clinician_client.post(
        reverse("sign", args=[response.pk]), sign_data(clinician_client, response)
    )
    assert answer.status_code == 302
    response.refresh_from_db()
    assert response.status == ChecklistResponse.Status.SIGNED
    assert response.signed_as["name"] == "Dana Reyes"
    # Later the profile changes: the signed record does not.
    _save_profile(clinician_client, full_name="Dana Reyes-Okafor", credential="MD")
    exports = {
        name: clinician_client.get(reverse(name, args=[response.pk])).content.decode()
        for name in ("export_note_txt", "export_print", "export_fhir")
    }
    for name, text in exports.items():
        assert "Dana Reyes, PharmD" in text, name
        assert "Okafor" not in text, name
    assert "Signed by Dana Reyes, PharmD on" in exports["export_note_txt"]
    assert "Registration number: RPh-4411" in exports["export_note_txt"]
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    supervisor_client.get(reverse("export_responses_csv")).streaming_content
                ).decode()
            )
        )
    )
    row = next(r for r in rows if r["response_id"] == str(response.pk))
    assert row["signed_by"] == "Dana Reyes, PharmD"
    assert row["signed_by_username"] == "clinician"


def test_without_a_profile_the_exports_name_the_username(
    clinician_client, clinician, case, version
):
    response = _draft(case, clinician)
    clinician_client.post(
        reverse("sign", args=[response.pk]), sign_data(clinician_client, response)
    )
    text = clinician_client.get(reverse("export_note_txt", args=[response.pk])).content.decode()
    assert "Signed by clinician on" in text


def test_the_demo_accounts_have_names_and_credentials(db):
    ensure_demo_accounts("demo-password-1234")
    for account in DEMO_ACCOUNTS:
        profile = Profile.objects.get(user__username=account.username)
        assert profile.full_name, account.username
    clinician = Profile.objects.get(user__username="clinician")
    assert clinician.credentials
