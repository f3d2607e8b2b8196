"""Logging in, the lockout, passwords, the second factor and the session's life."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import sessions
from checklists.cases.readmodel import load_state
from checklists.cases.signing import SignerNotConfirmed, sign_response
from checklists.models import AuditEvent, ChecklistResponse

from .conftest import HttpsClient, login, sign_data
from .factories import (
    PASSWORD,
    fill,
    make_response,
    make_totp_device,
    make_user,
    recovery_code,
    totp_code,
)

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
LOGIN = "/accounts/login/"


def post_login(client, username, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def session_key(client) -> str:
    return client.cookies["__Host-sessionid"].value


# --- Lockout (django-axes) -------------------------------------------------------------


class TestLockout:
    def test_five_failures_lock_the_account_for_fifteen_minutes(self, client, clinician):
        with time_machine.travel(START, tick=False) as clock:
            for _ in range(4):
                refused = post_login(client, "clinician", "wrong password here")
                assert refused.status_code == 200
                assert "Please enter a correct username and password" in refused.text
            locked = post_login(client, "clinician", "wrong password here")
            assert locked.status_code == 429
            assert "Too many failed logins" in locked.text and "15 minutes" in locked.text
            # The right password changes nothing while the lock holds.
            assert post_login(client, "clinician", PASSWORD).status_code == 429
            clock.shift(datetime.timedelta(minutes=14, seconds=59))
            assert post_login(client, "clinician", PASSWORD).status_code == 429
            clock.shift(datetime.timedelta(seconds=2))
            welcome = post_login(client, "clinician", PASSWORD)
            assert welcome.status_code == 302 and "_auth_user_id" in client.session
        # A success resets the count.
        assert not AccessAttempt.objects.filter(username="clinician").exists()

    def test_the_lockout_and_each_refused_try_are_in_the_audit_trail(self, client, clinician):
        for _ in range(5):
            post_login(client, "clinician", "wrong password here", ip="10.1.2.3")
        post_login(client, "clinician", PASSWORD, ip="10.1.2.3")
        lockouts = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKOUT)
        # The fifth failure locks; the sixth attempt is refused during the cool-off.
        assert lockouts.count() == 2
        assert {e.detail["username"] for e in lockouts} == {"clinician"}
        assert {e.ip_address for e in lockouts} == {"10.1.2.3"}
        assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).count() >= 5

    def test_trying_during_the_lockout_does_not_extend_it(self, client, clinician):
        with time_machine.travel(START, tick=False) as clock:
            for _ in range(5):
                post_login(client, "clinician", "wrong password here")
            for _ in range(3):
                clock.shift(datetime.timedelta(minutes=4))
                assert post_login(client, "clinician", "still wrong here").status_code == 429
            clock.shift(datetime.timedelta(minutes=3, seconds=1))
            assert post_login(client, "clinician", PASSWORD).status_code == 302

    def test_a_success_clears_earlier_failures(self, client, clinician):
        for _ in range(4):
            post_login(client, "clinician", "wrong password here")
        assert post_login(client, "clinician", PASSWORD).status_code == 302
        other = HttpsClient()
        for _ in range(4):
            assert post_login(other, "clinician", "wrong password here").status_code == 200

    def test_the_lock_is_per_username_not_per_address(self, client, clinician, colleague):
        for _ in range(5):
            post_login(client, "clinician", "wrong password here")
        # A colleague at the same clinic (same address) still logs in.
        assert post_login(HttpsClient(), "colleague", PASSWORD).status_code == 302
        # The attacked account is locked from every address: the price of bounding a
        # distributed attack (docs/security.md, lockout).
        assert post_login(HttpsClient(), "clinician", PASSWORD, ip="10.9.8.7").status_code == 429

    @pytest.mark.parametrize("url", [LOGIN, "/admin/login/"])
    def test_an_absurdly_long_username_is_a_failed_login_not_an_error(self, client, url):
        # Found by the hypothesis login test on PostgreSQL: axes' column is 255 characters.
        answer = client.post(url, {"username": "long " * 100, "password": "whatever it is"})
        assert answer.status_code == 200
        assert AccessAttempt.objects.get().username == ("long " * 100)[:150]

    @pytest.mark.parametrize("rotate_addresses", [False, True], ids=["one-address", "botnet"])
    def test_worst_case_is_far_under_100_guesses_an_hour(
        self, client, clinician, monkeypatch, rotate_addresses
    ):
        checked = []
        authenticate = ModelBackend.authenticate

        def counting(backend, request, username=None, password=None, **kwargs):
            checked.append(username)
            return authenticate(backend, request, username=username, password=password, **kwargs)

        monkeypatch.setattr(ModelBackend, "authenticate", counting)
        with time_machine.travel(START, tick=False) as clock:
            for attempt in range(180):  # one guess every 20 seconds for an hour
                ip = (
                    f"10.0.{attempt // 250}.{attempt % 250 + 1}" if rotate_addresses else "10.0.0.1"
                )
                answer = post_login(client, "clinician", f"guess number {attempt}", ip=ip)
                assert answer.status_code in (200, 429)
                clock.shift(datetime.timedelta(seconds=20))
        # 5 password checks per 15 minutes: 20 an hour, whatever the addresses.
        assert 0 < len(checked) <= 20


# --- Passwords ---------------------------------------------------------------------------


class TestPasswords:
    @pytest.mark.parametrize(
        "password",
        [
            "tulip harbour",  # 12 characters, lower case and a space: no composition rules
            "839274619285",  # digits only are fine when long and not common
            "correct horse battery staple " * 2,  # a 58-character passphrase
            "x7" * 32,  # 64 characters
            "ü" * 64 + "!" * 64,  # 128 characters, the most accepted
        ],
    )
    def test_accepted(self, clinician, password):
        validate_password(password, clinician)

    @pytest.mark.parametrize(
        "password, why",
        [
            ("tulip harbo", "too short"),  # 11 characters
            ("a" * 129, "too long"),
            ("password1234", "too common"),
            ("clinician2026", "too similar"),
        ],
    )
    def test_refused(self, clinician, password, why):
        with pytest.raises(ValidationError, match=why):
            validate_password(password, clinician)

    def test_change_page_keeps_this_session_and_ends_the_others(self, clinician_client, clinician):
        elsewhere = login(HttpsClient(), clinician)
        url = reverse("password_change")
        weak = clinician_client.post(
            url,
            {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
        )
        assert weak.status_code == 200 and "too short" in weak.text
        new = "a much longer passphrase for the clinic"
        changed = clinician_client.post(
            url,
            {
                "old_password": PASSWORD,
                "current_code": recovery_code(clinician),
                "new_password1": new,
                "new_password2": new,
            },
        )
        assert changed.status_code == 302 and changed["Location"] == reverse("password_change_done")
        clinician.refresh_from_db()
        assert clinician.check_password(new)
        assert clinician_client.get(reverse("case_list")).status_code == 200
        assert elsewhere.get(reverse("case_list")).status_code == 302


# --- Second factor ---------------------------------------------------------------------------


def password_only(user) -> HttpsClient:
    client = HttpsClient()
    assert post_login(client, user.username, PASSWORD).status_code == 302
    return client


class TestSecondFactor:
    def test_without_one_every_page_leads_to_setting_it_up(self, clinician, case):
        client = password_only(clinician)
        for url in (reverse("case_list"), reverse("case_detail", args=[case.pk]), "/admin/"):
            answer = client.get(url)
            assert answer.status_code == 302, url
            assert answer["Location"].startswith(reverse("mfa_setup")), url
        # Nothing about the case was shown, so nothing was audited as viewed.
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.CASE_VIEWED).exists()

    def test_enrolment_with_qr_code_secret_and_recovery_codes(self, clinician):
        with time_machine.travel(START, tick=False) as clock:
            client = password_only(clinician)
            page = client.get(reverse("mfa_setup"))
            assert page.status_code == 200
            assert "<svg" in page.text and 'class="segno"' in page.text
            device = TOTPDevice.objects.get(user=clinician, confirmed=False)
            assert page.context["secret"].replace(" ", "") in device.config_url
            wrong = client.post(reverse("mfa_setup"), {"otp_token": "000000"})
            assert wrong.status_code == 200 and "not right" in wrong.text
            clock.shift(datetime.timedelta(seconds=2))
            done = client.post(reverse("mfa_setup"), {"otp_token": totp_code(device)})
            assert done.status_code == 200 and "no-store" in done["Cache-Control"]
            assert 'href="/cases/">I have kept them' in done.text
            codes = done.context["codes"]
            assert len(codes) == 10 and all(code in done.text for code in codes)
            device.refresh_from_db()
            assert device.confirmed
            assert client.get(reverse("case_list")).status_code == 200
            # The codes are never shown again: the overview only counts them.
            overview = client.get(reverse("mfa_overview"))
            assert "<strong>10</strong>" in overview.text and codes[0] not in overview.text

    def test_after_the_password_the_code_is_asked_before_anything_else(self, clinician):
        device = make_totp_device(clinician)
        with time_machine.travel(START, tick=False) as clock:
            client = password_only(clinician)
            asked = client.get(reverse("case_list"))
            assert asked["Location"] == reverse("mfa_verify") + "?next=/cases/"
            key_before = session_key(client)
            wrong = client.post(reverse("mfa_verify"), {"otp_token": "123456", "next": "/cases/"})
            assert wrong.status_code == 200 and "not right" in wrong.text
            clock.shift(datetime.timedelta(seconds=5))  # django-otp's wait after a wrong code
            right = client.post(
                reverse("mfa_verify"), {"otp_token": totp_code(device), "next": "/cases/"}
            )
            assert right.status_code == 302 and right["Location"] == "/cases/"
            assert session_key(client) != key_before
            assert client.get(reverse("case_list")).status_code == 200

    def test_the_password_alone_cannot_replace_the_authenticator(self, clinician):
        make_totp_device(clinician)
        client = password_only(clinician)
        assert client.get(reverse("mfa_setup"))["Location"].startswith(reverse("mfa_verify"))
        assert client.post(reverse("mfa_setup"), {"otp_token": "123456"}).status_code == 302
        assert not TOTPDevice.objects.filter(user=clinician, confirmed=False).exists()
        assert client.post(reverse("mfa_recovery_codes")).status_code == 302
        assert not StaticToken.objects.filter(device__user=clinician).exists()

    def test_wrong_codes_slow_down_guessing(self, clinician):
        device = make_totp_device(clinician)
        with time_machine.travel(START, tick=False) as clock:
            client = password_only(clinician)
            for wait in (1, 2, 4, 0):  # django-otp doubles the wait after each wrong code
                client.post(reverse("mfa_verify"), {"otp_token": "000000"})
                clock.shift(datetime.timedelta(seconds=wait))
            # After 4 wrong codes no code is even checked for 8 seconds, the right one neither.
            waiting = client.post(reverse("mfa_verify"), {"otp_token": totp_code(device)})
            assert waiting.status_code == 200 and "Too many wrong codes" in waiting.text
            clock.shift(datetime.timedelta(seconds=9))
            assert (
                client.post(reverse("mfa_verify"), {"otp_token": totp_code(device)}).status_code
                == 302
            )

    def test_a_recovery_code_works_once(self, clinician):
        make_totp_device(clinician)
        code = recovery_code(clinician)
        first = password_only(clinician)
        used = first.post(reverse("mfa_verify"), {"otp_token": code.upper()})
        assert used.status_code == 302
        again = password_only(clinician)
        assert again.post(reverse("mfa_verify"), {"otp_token": code}).status_code == 200

    def test_new_recovery_codes_replace_the_old_ones(self, clinician_client, clinician):
        old = recovery_code(clinician)
        page = clinician_client.post(
            reverse("mfa_recovery_codes"), {"password": PASSWORD, "current_code": old}
        )
        assert page.status_code == 200 and len(page.context["codes"]) == 10
        assert not StaticToken.objects.filter(token=old).exists()
        assert clinician_client.get(reverse("mfa_recovery_codes")).status_code == 405

    def test_moving_to_a_new_phone_retires_the_old_authenticator(self, clinician_client, clinician):
        old = make_totp_device(clinician)
        clinician_client.get(reverse("mfa_setup"))
        new = TOTPDevice.objects.get(user=clinician, confirmed=False)
        confirmed = {
            "password": PASSWORD,
            "current_code": recovery_code(clinician),
            "otp_token": totp_code(new),
        }
        assert clinician_client.post(reverse("mfa_setup"), confirmed).status_code == 200
        assert list(TOTPDevice.objects.filter(user=clinician)) == [new]
        assert not TOTPDevice.objects.filter(pk=old.pk).exists()

    def test_next_must_stay_on_this_site(self, clinician):
        device = make_totp_device(clinician)
        client = password_only(clinician)
        answer = client.post(
            reverse("mfa_verify"),
            {"otp_token": totp_code(device), "next": "https://evil.example/cases/"},
        )
        assert answer["Location"] == reverse("case_list")

    def test_demo_mode_asks_for_nothing_until_a_user_sets_it_up(self, settings, clinician):
        settings.MFA_REQUIRED = False
        client = password_only(clinician)
        assert client.get(reverse("case_list")).status_code == 200
        assert "not required in demo mode" in client.get(reverse("mfa_overview")).text
        make_totp_device(clinician)
        assert (
            password_only(clinician)
            .get(reverse("case_list"))["Location"]
            .startswith(reverse("mfa_verify"))
        )


class TestSigningAsksForTheSecondFactor:
    @pytest.fixture
    def ready(self, case, clinician, version):
        response = make_response(case, clinician)
        fill(response, clinician)
        return response

    def test_refused_without_a_code(self, clinician_client, ready):
        data = sign_data(clinician_client, ready)
        del data["otp_token"]
        refused = clinician_client.post(reverse("sign", args=[ready.pk]), data)
        assert refused.status_code == 400 and "This field is required" in refused.text
        ready.refresh_from_db()
        assert ready.is_draft

    def test_the_login_code_cannot_sign_too(self, client, clinician, ready):
        device = make_totp_device(clinician)
        with time_machine.travel(START, tick=False) as clock:
            client = password_only(clinician)
            code = totp_code(device)
            assert client.post(reverse("mfa_verify"), {"otp_token": code}).status_code == 302
            data = {**sign_data(client, ready), "otp_token": code}
            replayed = client.post(reverse("sign", args=[ready.pk]), data)
            assert replayed.status_code == 400 and "Nothing was signed" in replayed.text
            clock.shift(datetime.timedelta(seconds=30))
            data = {**sign_data(client, ready), "otp_token": totp_code(device)}
            assert client.post(reverse("sign", args=[ready.pk]), data).status_code == 302
        ready.refresh_from_db()
        assert ready.status == ChecklistResponse.Status.SIGNED

    def test_the_write_function_checks_the_password_then_the_code(self, clinician, ready):
        device = make_totp_device(clinician)
        flags = load_state(ready).flags
        acks = {f.code: ("advised_against", "") for f in flags if f.needs_acknowledgement}

        def attempt(password, code):
            ready.refresh_from_db()
            return sign_response(
                response=ready,
                user=clinician,
                password=password,
                code=code,
                attestation="ok",
                lock_version=ready.lock_version,
                acknowledgements=acks,
            )

        with pytest.raises(SignerNotConfirmed) as wrong_password:
            attempt("not my password", recovery_code(clinician))
        assert wrong_password.value.field == "password"
        assert str(wrong_password.value) == "That password is not right. Nothing was signed."
        with pytest.raises(SignerNotConfirmed) as wrong_code:
            attempt(PASSWORD, "000000")
        assert wrong_code.value.field == "code"
        assert str(wrong_code.value).endswith("Nothing was signed.")
        # The refused code still counts against the device (django-otp slows guessing).
        device.refresh_from_db()
        assert device.throttling_failure_count == 1
        ready.refresh_from_db()
        assert ready.is_draft
        assert attempt(PASSWORD, recovery_code(clinician)).status == ChecklistResponse.Status.SIGNED

    def test_no_code_asked_of_a_demo_user_without_one(self, settings, clinician, ready):
        settings.MFA_REQUIRED = False
        client = password_only(clinician)
        data = sign_data(client, ready)
        assert "otp_token" not in data
        assert client.post(reverse("sign", args=[ready.pk]), data).status_code == 302


# --- Sessions -----------------------------------------------------------------------------


class TestSessions:
    def test_the_session_key_changes_at_login(self, client, clinician):
        client.get(LOGIN)
        session = client.session
        session["before"] = "login"
        session.save()
        before = session.session_key
        assert post_login(client, "clinician", PASSWORD).status_code == 302
        assert session_key(client) != before
        assert not Session.objects.filter(pk=before).exists()

    def test_logout_is_a_post_that_deletes_the_session(self, clinician_client):
        key = session_key(clinician_client)
        assert clinician_client.get(reverse("logout")).status_code == 405
        assert Session.objects.filter(pk=key).exists()
        assert clinician_client.post(reverse("logout")).status_code == 302
        assert not Session.objects.filter(pk=key).exists()
        assert clinician_client.get(reverse("case_list")).status_code == 302

    def test_thirty_minutes_idle_ends_the_session(self, client, clinician):
        with time_machine.travel(START, tick=False) as clock:
            login(client, clinician)
            key = session_key(client)
            for _ in range(4):  # active every 29 minutes: still in
                clock.shift(datetime.timedelta(minutes=29))
                assert client.get(reverse("case_list")).status_code == 200
            clock.shift(datetime.timedelta(minutes=30))
            out = client.get(reverse("case_list"))
            assert out.status_code == 302 and out["Location"].startswith(reverse("login"))
            assert not Session.objects.filter(pk=key).exists()
            page = client.get(out["Location"])
            assert "30 minutes without activity" in page.text

    def test_twelve_hours_end_the_session_however_active(self, client, clinician):
        with time_machine.travel(START, tick=False) as clock:
            login(client, clinician)
            for _ in range(35):  # every 20 minutes for 11 h 40 min
                clock.shift(datetime.timedelta(minutes=20))
                assert client.get(reverse("case_list")).status_code == 200
            clock.shift(datetime.timedelta(minutes=19, seconds=59))
            assert client.get(reverse("case_list")).status_code == 200
            clock.shift(datetime.timedelta(seconds=1))
            out = client.get(reverse("case_list"))
            assert out.status_code == 302
            assert "12-hour limit" in client.get(out["Location"]).text

    def test_activity_is_written_at_most_once_a_minute(self, client, clinician):
        def seen_at():
            return Session.objects.get(pk=session_key(client)).get_decoded()[sessions.SEEN_AT]

        with time_machine.travel(START, tick=False) as clock:
            login(client, clinician)
            first = seen_at()
            clock.shift(datetime.timedelta(seconds=59))
            client.get(reverse("case_list"))
            assert seen_at() == first
            clock.shift(datetime.timedelta(seconds=1))
            client.get(reverse("case_list"))
            assert seen_at() == first + 60

    def test_a_deactivated_user_is_out_on_the_next_request(self, clinician_client, clinician):
        assert clinician_client.get(reverse("case_list")).status_code == 200
        clinician.is_active = False
        clinician.save(update_fields=["is_active"])
        out = clinician_client.get(reverse("case_list"))
        assert out.status_code == 302 and out["Location"].startswith(reverse("login"))

    def test_an_inactive_user_cannot_log_in(self, client, team):
        make_user("retired", teams=[team], is_active=False)
        refused = post_login(client, "retired", PASSWORD)
        assert refused.status_code == 200 and "_auth_user_id" not in client.session
