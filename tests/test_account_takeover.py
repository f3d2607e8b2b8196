"""Issue 15's account takeover, over HTTP: a session left open on a clinic computer must not
be enough to replace the second factor, make new recovery codes or change the password, nor
to guess the password on the sign and password forms. Every such event is audited, and the
owner hears of the changes at the next login."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from checklists.access import ResponseLocked
from checklists.cases.readmodel import load_state
from checklists.cases.signing import sign_response
from checklists.models import AuditEvent, ChecklistResponse

from .conftest import HttpsClient, login, sign_data
from .factories import (
    PASSWORD,
    fill,
    make_response,
    make_totp_device,
    recovery_code,
    sign,
    totp_code,
)

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
SETUP = "/accounts/mfa/setup/"
VERIFY = "/accounts/mfa/verify/"
RECOVERY = "/accounts/mfa/recovery-codes/"
PASSWORD_PAGE = "/accounts/password/"
NEW_PASSWORD = "a much longer passphrase for the clinic"
INTRUDER = "10.6.6.6"
SIGNED_OUT = "Too many wrong passwords or codes"


def post_login(client, password=PASSWORD):
    return client.post("/accounts/login/", {"username": "clinician", "password": password})


def events(action, **detail):
    found = AuditEvent.objects.filter(action=action).order_by("pk")
    return [e for e in found if all(e.detail.get(k) == v for k, v in detail.items())]


@pytest.fixture
def ready(case, clinician, version):
    """A complete draft with a serious caution to acknowledge."""
    response = make_response(case, clinician)
    fill(response, clinician)
    return response


# --- Point 1: the factor, the recovery codes and the password need the password and a code


def test_mfa_setup_with_existing_device_requires_password_and_code(clinician):
    with time_machine.travel(START, tick=False) as clock:
        owner_app = make_totp_device(clinician)
        left_open = login(HttpsClient(), clinician)
        assert left_open.get(SETUP).status_code == 200
        intruder_app = TOTPDevice.objects.get(user=clinician, confirmed=False)
        # The attack: a code from the intruder's own new app, nothing else.
        attack = left_open.post(SETUP, {"otp_token": totp_code(intruder_app)}, REMOTE_ADDR=INTRUDER)
        assert attack.status_code == 200 and "This field is required" in attack.text
        clock.shift(datetime.timedelta(seconds=30))
        password_only = {"password": PASSWORD, "otp_token": totp_code(intruder_app)}
        assert "This field is required" in left_open.post(SETUP, password_only).text
        clock.shift(datetime.timedelta(seconds=30))
        wrong = left_open.post(
            SETUP,
            {"password": PASSWORD, "current_code": "000000", "otp_token": totp_code(intruder_app)},
            REMOTE_ADDR=INTRUDER,
        )
        assert wrong.status_code == 200 and "not right" in wrong.text
        assert list(TOTPDevice.objects.filter(user=clinician, confirmed=True)) == [owner_app]
        assert not events(Action.MFA_ENROLLED)
        refused = events(Action.MFA_CODE_REFUSED, form="mfa_setup")
        assert [(e.user, e.ip_address) for e in refused] == [(clinician, INTRUDER)]
        # The owner, who has both, moves to a new phone.
        clock.shift(datetime.timedelta(seconds=30))
        moved = left_open.post(
            SETUP,
            {
                "password": PASSWORD,
                "current_code": totp_code(owner_app),
                "otp_token": totp_code(intruder_app),
            },
            REMOTE_ADDR="10.1.1.1",
        )
    assert moved.status_code == 200 and len(moved.context["codes"]) == 10
    assert list(TOTPDevice.objects.filter(user=clinician)) == [intruder_app]
    (enrolled,) = events(Action.MFA_ENROLLED)
    assert (enrolled.user, enrolled.object_id, enrolled.ip_address) == (
        clinician,
        str(clinician.pk),
        "10.1.1.1",
    )
    assert enrolled.detail == {"replaced": True, "recovery_codes": 10}


def test_a_wrong_password_spends_no_code(clinician_client, clinician):
    code = recovery_code(clinician)
    clinician_client.get(SETUP)
    new = TOTPDevice.objects.get(user=clinician, confirmed=False)
    wrong = clinician_client.post(
        SETUP, {"password": "not my password", "current_code": code, "otp_token": totp_code(new)}
    )
    assert wrong.status_code == 200 and "That password is not right" in wrong.text
    assert StaticToken.objects.filter(token=code).exists()
    (refused,) = events(Action.PASSWORD_REFUSED)
    assert refused.detail == {"form": "mfa_setup"} and refused.user == clinician


def test_first_enrolment_from_an_open_session_asks_the_password(settings, clinician):
    settings.MFA_REQUIRED = False  # demo mode: set up by choice, from a session in use
    with time_machine.travel(START, tick=False) as clock:
        session = login(HttpsClient(), clinician, second_factor=False)
        session.get(SETUP)
        new = TOTPDevice.objects.get(user=clinician, confirmed=False)
        refused = session.post(SETUP, {"otp_token": totp_code(new)})
        assert refused.status_code == 200 and "This field is required" in refused.text
        assert not TOTPDevice.objects.filter(confirmed=True).exists()
        clock.shift(datetime.timedelta(seconds=30))
        done = session.post(SETUP, {"password": PASSWORD, "otp_token": totp_code(new)})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert events(Action.MFA_ENROLLED)[0].detail["replaced"] is False


def test_recovery_codes_need_password_and_code(clinician, client):
    old = recovery_code(clinician)
    with time_machine.travel(START, tick=False) as clock:
        session = login(client, clinician)
        for refused in ({}, {"password": PASSWORD}, {"current_code": old}):
            answer = session.post(RECOVERY, refused)
            assert answer.status_code == 200 and "This field is required" in answer.text
        wrong = session.post(RECOVERY, {"password": PASSWORD, "current_code": "abcd1234"})
        assert wrong.status_code == 200 and "not right" in wrong.text
        assert list(StaticToken.objects.values_list("token", flat=True)) == [old]
        assert not events(Action.RECOVERY_CODES_ISSUED)
        clock.shift(datetime.timedelta(seconds=2))  # django-otp's wait after a wrong code
        made = session.post(
            RECOVERY, {"password": PASSWORD, "current_code": old}, REMOTE_ADDR=INTRUDER
        )
    assert made.status_code == 200 and len(made.context["codes"]) == 10
    assert not StaticToken.objects.filter(token=old).exists()
    (issued,) = events(Action.RECOVERY_CODES_ISSUED)
    assert (issued.user, issued.ip_address, issued.detail) == (clinician, INTRUDER, {"count": 10})
    # The recovery code given to prove it is you was spent, and that is on record too.
    assert events(Action.RECOVERY_CODE_USED, form="recovery_codes")


def test_password_change_requires_code(clinician_client, clinician):
    change = {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    refused = clinician_client.post(PASSWORD_PAGE, change)
    assert refused.status_code == 200 and "This field is required" in refused.text
    wrong = clinician_client.post(PASSWORD_PAGE, {**change, "current_code": "000000"})
    assert wrong.status_code == 200 and "not right" in wrong.text
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)
    assert events(Action.MFA_CODE_REFUSED, form="password_change")
    assert not events(Action.PASSWORD_CHANGED)
    changed = clinician_client.post(
        PASSWORD_PAGE, {**change, "current_code": recovery_code(clinician)}, REMOTE_ADDR=INTRUDER
    )
    assert changed.status_code == 302
    clinician.refresh_from_db()
    assert clinician.check_password(NEW_PASSWORD)
    (event,) = events(Action.PASSWORD_CHANGED)
    assert (event.user, event.object_id, event.ip_address) == (
        clinician,
        str(clinician.pk),
        INTRUDER,
    )


def test_the_admin_password_page_leads_to_the_one_that_asks_a_code(editor):
    staff = login(HttpsClient(), editor)
    answer = staff.get("/admin/password_change/")
    assert answer.status_code == 302 and answer["Location"] == PASSWORD_PAGE
    change = {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    assert staff.post("/admin/password_change/", change).status_code == 302
    editor.refresh_from_db()
    assert editor.check_password(PASSWORD)


def test_codes_refused_and_recovery_codes_spent_are_audited(clinician, ready):
    make_totp_device(clinician)
    session = HttpsClient()
    post_login(session)
    session.post(VERIFY, {"otp_token": "000000"}, REMOTE_ADDR=INTRUDER)
    (refused,) = events(Action.MFA_CODE_REFUSED)
    assert (refused.user, refused.ip_address, refused.detail) == (
        clinician,
        INTRUDER,
        {"form": "login"},
    )
    # Recovery codes are another device: the app's wait after a wrong code does not apply.
    assert session.post(VERIFY, {"otp_token": recovery_code(clinician)}).status_code == 302
    signed = session.post(reverse("sign", args=[ready.pk]), sign_data(session, ready))
    assert signed.status_code == 302
    used = events(Action.RECOVERY_CODE_USED)
    assert [e.detail["form"] for e in used] == ["login", "sign"]
    assert all(e.user == clinician and e.detail["left"] == 0 for e in used)


# --- Point 2: wrong passwords and codes count toward the login lockout ----------------------


def test_wrong_sign_password_counts_to_lockout_and_ends_session(clinician_client, clinician, ready):
    url = reverse("sign", args=[ready.pk])
    for guess in range(4):
        data = sign_data(clinician_client, ready, password=f"guess number {guess}")
        refused = clinician_client.post(url, data)
        assert refused.status_code == 400 and "password is not right" in refused.text
    data = sign_data(clinician_client, ready, password="guess number 5")
    out = clinician_client.post(url, data)
    assert out.status_code == 302 and out["Location"] == reverse("login")
    assert SIGNED_OUT in clinician_client.get(out["Location"]).text
    assert clinician_client.get(reverse("case_list"))["Location"].startswith(reverse("login"))
    # The account cools off as at login: the right password is refused for now.
    assert post_login(HttpsClient()).status_code == 429
    ready.refresh_from_db()
    assert ready.is_draft
    assert len(events(Action.SIGN_REFUSED, reason="password")) == 5
    assert len(events(Action.PASSWORD_REFUSED, form="sign")) == 5
    assert events(Action.LOCKOUT)[0].detail == {"username": "clinician"}


def test_failed_logins_and_wrong_sign_codes_share_one_count(clinician_client, ready):
    for _ in range(3):
        assert post_login(HttpsClient(), "not the password").status_code == 200
    url = reverse("sign", args=[ready.pk])
    first = clinician_client.post(url, sign_data(clinician_client, ready, otp_token="000000"))
    assert first.status_code == 400 and "Nothing was signed" in first.text
    out = clinician_client.post(url, sign_data(clinician_client, ready, otp_token="000000"))
    assert out.status_code == 302 and out["Location"] == reverse("login")
    assert post_login(HttpsClient()).status_code == 429
    assert len(events(Action.SIGN_REFUSED, reason="code")) == 2


def test_wrong_password_change_counts_to_lockout(clinician_client, clinician):
    for guess in range(5):
        answer = clinician_client.post(
            PASSWORD_PAGE,
            {
                "old_password": f"guess number {guess}",
                "current_code": "123456",
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        if guess < 4:
            assert answer.status_code == 200 and "That password is not right" in answer.text
    assert answer.status_code == 302 and answer["Location"] == reverse("login")
    assert clinician_client.get(PASSWORD_PAGE).status_code == 302
    assert post_login(HttpsClient()).status_code == 429
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)
    assert len(events(Action.PASSWORD_REFUSED, form="password_change")) == 5
    # No code was tried after a wrong password.
    assert not events(Action.MFA_CODE_REFUSED)


def test_the_count_keeps_nothing_typed_into_the_form(clinician_client, ready):
    data = sign_data(clinician_client, ready, reason="other", password="wrong one")
    for key in [k for k in data if k.endswith("_comment")]:
        data[key] = "Patient lives at 1 Example Street"
    clinician_client.post(reverse("sign", args=[ready.pk]), data)
    (attempt,) = AccessAttempt.objects.all()
    assert (attempt.username, attempt.get_data, attempt.post_data) == ("clinician", "", "")
    assert attempt.path_info == reverse("sign", args=[ready.pk])


@pytest.mark.parametrize(
    "reason", ["password", "code", "missing_answers", "unacknowledged_caution", "locked"]
)
def test_every_refused_signing_is_audited_with_reason(
    clinician_client, clinician, case, version, reason
):
    response = make_response(case, clinician)
    if reason != "missing_answers":
        fill(response, clinician)
    if reason == "locked":
        sign(response, clinician)
        data = {"password": PASSWORD, "attest": "on", "lock_version": response.lock_version}
    else:
        data = sign_data(clinician_client, response)
    if reason == "password":
        data["password"] = "not my password"
    elif reason == "code":
        data["otp_token"] = "000000"
    elif reason == "unacknowledged_caution":
        data = {k: v for k, v in data.items() if not k.endswith("_reason")}
    answer = clinician_client.post(
        reverse("sign", args=[response.pk]), data, REMOTE_ADDR="10.7.7.7"
    )
    assert answer.status_code == (409 if reason == "locked" else 400)
    (refusal,) = events(Action.SIGN_REFUSED)
    assert refusal.detail == {"reason": reason}
    assert (refusal.user, refusal.case_id, refusal.object_id, refusal.ip_address) == (
        clinician,
        case.pk,
        str(response.pk),
        "10.7.7.7",
    )
    response.refresh_from_db()
    assert response.status == ("signed" if reason == "locked" else "draft")


def test_a_signature_refused_inside_its_transaction_is_still_audited(clinician, ready):
    seen_as_draft = ChecklistResponse.objects.get(pk=ready.pk)
    acks = {f.code: ("advised_against", "") for f in load_state(ready).flags}
    sign(ready, clinician)  # signed meanwhile, in another tab
    with pytest.raises(ResponseLocked):
        sign_response(
            response=seen_as_draft,
            user=clinician,
            password=PASSWORD,
            attestation="ok",
            lock_version=seen_as_draft.lock_version,
            acknowledgements=acks,
        )
    assert [e.detail for e in events(Action.SIGN_REFUSED)] == [{"reason": "locked"}]


# --- The owner is told at the next login -----------------------------------------------------


def test_owner_told_on_next_login_that_factor_changed(clinician):
    with time_machine.travel(START, tick=False) as clock:
        make_totp_device(clinician)
        left_open = login(HttpsClient(), clinician)  # the owner's login, at 09:00
        clock.shift(datetime.timedelta(minutes=20))  # the owner has stepped away
        left_open.get(SETUP)
        new = TOTPDevice.objects.get(user=clinician, confirmed=False)
        replaced = {
            "password": PASSWORD,
            "current_code": recovery_code(clinician),
            "otp_token": totp_code(new),
        }
        assert left_open.post(SETUP, replaced, REMOTE_ADDR=INTRUDER).status_code == 200
        clock.shift(datetime.timedelta(hours=1))
        owner = HttpsClient()
        assert post_login(owner).status_code == 302
        # Not told before the second factor: the address is not for a password alone.
        assert "second factor was" not in owner.get(VERIFY).text
        assert owner.post(VERIFY, {"otp_token": recovery_code(clinician)}).status_code == 302
        told = owner.get(reverse("case_list")).text
        assert (
            "Your second factor was set up or replaced on 02 March 2026 at 09:20 UTC from "
            f"{INTRUDER}. If this was not you, tell your administrator."
        ) in told
        assert "second factor was" not in owner.get(reverse("case_list")).text
        # Told once: the login after that has nothing to say.
        clock.shift(datetime.timedelta(hours=1))
        later = HttpsClient()
        post_login(later)
        later.post(VERIFY, {"otp_token": recovery_code(clinician)})
        assert "second factor was" not in later.get(reverse("case_list")).text


@pytest.mark.parametrize(
    "change",
    [
        "password",
        "recovery codes",
        "removed by an administrator",
        "password set by an administrator",
    ],
)
def test_owner_told_on_next_login_of_each_account_change(settings, clinician, admin_client, change):
    settings.MFA_REQUIRED = False  # so the next login goes straight to the cases
    with time_machine.travel(START, tick=False) as clock:
        device = make_totp_device(clinician)
        left_open = login(HttpsClient(), clinician)
        clock.shift(datetime.timedelta(minutes=5))
        if change == "password":
            left_open.post(
                PASSWORD_PAGE,
                {
                    "old_password": PASSWORD,
                    "current_code": recovery_code(clinician),
                    "new_password1": NEW_PASSWORD,
                    "new_password2": NEW_PASSWORD,
                },
            )
            clinician.set_password(PASSWORD)
            clinician.save(update_fields=["password"])
            expected = "Your password was changed on 02 March 2026 at 09:05 UTC"
        elif change == "recovery codes":
            left_open.post(
                RECOVERY, {"password": PASSWORD, "current_code": recovery_code(clinician)}
            )
            expected = "New recovery codes were made for your account on 02 March 2026 at 09:05"
        elif change == "password set by an administrator":
            page = f"/admin/auth/user/{clinician.pk}/password/"
            answer = admin_client.post(page, {"password1": PASSWORD, "password2": PASSWORD})
            assert answer.status_code == 302
            (changed,) = events(Action.PASSWORD_CHANGED)
            assert changed.object_id == str(clinician.pk) and changed.user.is_superuser
            assert changed.detail == {"form": "admin", "by_admin": True}
            expected = "Your password was changed on 02 March 2026 at 09:05 UTC"
        else:
            delete = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
            assert admin_client.post(delete, {"post": "yes"}).status_code == 302
            (removed,) = events(Action.MFA_REMOVED)
            assert removed.object_id == str(clinician.pk) and removed.user.is_superuser
            assert removed.detail == {"device": "authenticator", "by_admin": True}
            expected = "Your second factor was removed on 02 March 2026 at 09:05 UTC"
        clock.shift(datetime.timedelta(hours=1))
        owner = HttpsClient()
        post_login(owner)
        if change != "removed by an administrator":  # the device is gone: no code asked
            owner.post(VERIFY, {"otp_token": recovery_code(clinician)})
        assert expected in owner.get(reverse("case_list")).text
