"""Helpers shared by the serving scripts (pg_restart.py, two_instances.py).

Loopback only: every server binds 127.0.0.1 and every request goes there.

The servers run the production settings as deployed behind a TLS-terminating proxy
(README, "Serving in production"): DJANGO_HTTPS on (HSTS, redirect of plain HTTP,
__Host- Secure cookies), DJANGO_BEHIND_TLS_PROXY=1, and the second factor required. The
client plays the proxy's part and sends `X-Forwarded-Proto: https` on every request
(gunicorn trusts it from 127.0.0.1 only, FORWARDED_ALLOW_IPS). That keeps every
security control in the path, where DJANGO_HTTPS=0 would have switched the cookie
names, the redirect and HSTS off; and it needs no certificate. A tiny HTTP client keeps
cookies by hand, because the cookies are Secure and urllib's cookie jar would not send
them over the plain-http loopback connection.

Logging in is the person's two steps: the password, then a six-digit code computed from
the TOTP device `prepare()` makes (django_otp.oath.totp, as an authenticator app does).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
USERNAME = "bench-clinician"
PASSWORD = "bench-only-password-" + "x" * 12  # noqa: S105 (scratch database only)
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/checklists_serve_bench"


def server_env(database_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_DEMO="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="1",
        DJANGO_BEHIND_TLS_PROXY="1",
        DJANGO_LOG_LEVEL="WARNING",
        GUNICORN_ACCESS_LOG="",
        **extra,
    )
    return env


def ensure_database(database_url: str) -> None:
    """Create the scratch PostgreSQL database when missing."""
    import psycopg

    parts = urllib.parse.urlparse(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_phase(script: str, phase: str, env: dict, *args: str) -> dict:
    """Run `script --phase PHASE` (Django set up inside) and return its JSON output."""
    out = subprocess.run(  # noqa: S603 (our interpreter and script, our arguments)
        [sys.executable, script, "--phase", phase, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()


def prepare(drafts: int) -> dict:
    """Migrate, load content, and make a clinician with an authenticator app (a new
    TOTP device each run: django-otp refuses a code from a time step already used) and
    `drafts` draft checklists. Returns the response ids and the device's key (hex)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from checklists.cases.cases import create_case
    from checklists.cases.drafts import start_response
    from checklists.models import Team
    from checklists.roles import CLINICIAN, ensure_roles

    call_command("migrate", verbosity=0)
    call_command("load_default_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    team, _ = Team.objects.get_or_create(name="Serve Bench Clinic")
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    user.groups.set([ensure_roles()[CLINICIAN]])
    team.members.add(user)
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    # DEBUG is off: pages link the hashed static names from whitenoise's manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    ids = []
    for _ in range(drafts):
        case = create_case(
            user=user, team=team, reference=f"SB-{secrets.token_hex(4)}", jurisdiction="US-TX"
        )
        ids.append(start_response(case=case, user=user).pk)
    return {"responses": ids, "totp_key": device.key}


def start_gunicorn(port: int, env: dict, workers: int = 2, threads: int = 4) -> subprocess.Popen:
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    env["GUNICORN_THREADS"] = str(threads)
    server = subprocess.Popen(  # noqa: S603
        [str(VENV_BIN / "gunicorn"), "-c", "clinic/gunicorn.conf.py", "clinic.wsgi"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Client(port).get("/healthz")[0] == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read()[-2000:]}")
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """Loopback HTTP client with hand-kept cookies and no redirect following."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.base = f"http://127.0.0.1:{port}"
        # What the browser sees behind the proxy: the CSRF check compares the Referer with it.
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies = dict(cookies or {})
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, path: str, data: dict | None = None, timeout: float = 10) -> tuple:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 (loopback)
        request.add_header("X-Forwarded-Proto", "https")  # the TLS proxy's header
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body is not None:
            # Django's CSRF check over HTTPS wants a same-origin https Referer.
            request.add_header("Referer", self.origin + path)
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                status, headers, text = answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, headers, text = error.code, error.headers, error.read().decode()
        for header in headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, text

    def get(self, path: str, **kwargs) -> tuple:
        return self.request(path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> tuple:
        return self.request(path, data=data, **kwargs)

    def login(self, totp_key: str) -> None:
        """The password, then the code the authenticator app would show now."""
        status, page = self.get("/accounts/login/")
        token = form_value(page, "csrfmiddlewaretoken")
        status, _ = self.post(
            "/accounts/login/",
            {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if status != 302:
            raise RuntimeError(f"login failed with status {status}")
        # Logging in rotated the CSRF token: read the new one from the code page.
        status, page = self.get("/accounts/mfa/verify/")
        data = {"csrfmiddlewaretoken": form_value(page, "csrfmiddlewaretoken")}
        data["otp_token"] = totp_code(totp_key)
        status, _ = self.post("/accounts/mfa/verify/", data)
        if status != 302 or self.get("/cases/")[0] != 200:
            raise RuntimeError(f"second factor refused (status {status})")


def totp_code(key_hex: str) -> str:
    """The six digits an authenticator app shows now for this TOTP key (30 s steps)."""
    from django_otp.oath import totp  # pure: needs no Django settings

    return f"{totp(bytes.fromhex(key_hex)):06d}"


def form_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)" name="{name}"', page
    )
    if match is None:
        raise RuntimeError(f"no {name} in the page")
    return match.group(1)
