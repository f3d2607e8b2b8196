#!/usr/bin/env bash
# make scan: wapiti against the app served by gunicorn with production settings (DEBUG off,
# HTTPS with a throw-away self-signed certificate, HSTS, __Host- cookies) on 127.0.0.1,
# logged in as a clinician who has passed the second factor. Loopback only; a throw-away
# SQLite database; the report lands in scan-results/ and the summary fails on any
# high-severity finding.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
OUT=${SCAN_OUT:-scan-results}
PORT=${SCAN_PORT:-8443}
BASE="https://127.0.0.1:$PORT"
MODULES=${SCAN_MODULES:-backup,blindsql,cookieflags,crlf,csp,csrf,exec,file,htaccess,http_headers,methods,permanentxss,redirect,shellshock,sql,xss,xxe}

if ! command -v wapiti >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wapiti >/dev/null
  else
    echo "wapiti is not installed: apt-get install -y wapiti" >&2
    exit 1
  fi
fi

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$OUT"

export DJANGO_DEBUG=0 DJANGO_DEMO=0 DJANGO_HTTPS=1
export DJANGO_SECRET_KEY="$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(64))')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DATABASE_URL="sqlite:///$work/scan.sqlite3"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
$BIN/python manage.py migrate --noinput -v 0
$BIN/python manage.py collectstatic --noinput -v 0
$BIN/python manage.py load_default_content >/dev/null
session=$($BIN/python scan/prepare.py)
# The session goes in wapiti's cookie jar (not a fixed Cookie header) so the CSRF cookie the
# pages set is sent back with every form the scanner posts.
printf '{"127.0.0.1": {"/": {"__Host-sessionid": {"value": "%s", "expires": null, "secure": true, "port": null, "version": 0}}}}\n' \
  "$session" > "$work/cookies.json"

$BIN/gunicorn clinic.wsgi -k gthread -w 2 --threads 4 -b "127.0.0.1:$PORT" \
  --certfile "$work/cert.pem" --keyfile "$work/key.pem" \
  --access-logfile "$OUT/access.log" --error-logfile "$OUT/server.log" &
server=$!
for _ in $(seq 1 50); do
  curl -sfk "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
signed_in() {
  test "$(curl -sk -o /dev/null -w '%{http_code}' -H "Cookie: __Host-sessionid=$session" \
    "$BASE/cases/")" = 200
}
signed_in || { echo "the scan session is not signed in" >&2; exit 1; }

# Injecting into the CSRF token only ever earns a 403 (the csrf module tests the token on
# its own), so the attack budget goes to the real fields.
# Logging out or renewing recovery codes would end or change the scanned session
# (scan/wapiti.py: Debian's wapiti 3.0.4 needs a fix for -x on Python 3.11).
# The account pages (password change, authenticator set-up) get a pass of their own. They
# echo their fields back, so the injection modules try every payload there, and each
# password-change post costs a full PBKDF2 check: in one pass they took the whole attack
# budget of xss, exec, file, xxe and blindsql (11,780 of 15,200 requests went to the
# set-up page) before those modules reached a single clinical form.
/usr/bin/python3 scan/wapiti.py -u "$BASE/" --scope folder -m "$MODULES" \
  -c "$work/cookies.json" \
  -x "$BASE/accounts/*" -x "$BASE/admin/logout/" \
  --skip csrfmiddlewaretoken -s "$BASE/cases/" --flush-session --store-session "$work/wapiti" \
  --max-scan-time "${SCAN_SECONDS:-900}" --max-attack-time "${SCAN_ATTACK_SECONDS:-120}" \
  --no-bugreport -v 1 -f json -o "$OUT/wapiti.json" > "$OUT/wapiti.log" 2>&1 \
  || { tail -n 20 "$OUT/wapiti.log" >&2; exit 1; }
/usr/bin/python3 scan/wapiti.py -u "$BASE/accounts/" --scope folder -m "$MODULES" \
  -c "$work/cookies.json" -s "$BASE/accounts/mfa/" -s "$BASE/accounts/password/" \
  -x "$BASE/accounts/logout/" -x "$BASE/accounts/mfa/recovery-codes/" \
  --skip csrfmiddlewaretoken --flush-session --store-session "$work/wapiti-accounts" \
  --max-scan-time 120 --max-attack-time "${SCAN_ACCOUNT_ATTACK_SECONDS:-45}" \
  --no-bugreport -v 1 -f json -o "$OUT/wapiti-accounts.json" > "$OUT/wapiti-accounts.log" 2>&1 \
  || { tail -n 20 "$OUT/wapiti-accounts.log" >&2; exit 1; }

# Still signed in at the end: the scan really ran as the clinician.
signed_in || echo "warning: the session ended during the scan" >&2
grep -c '" 500 ' "$OUT/access.log" | sed 's/^/server errors (500) during the scan: /' || true
# Which modules ran out of attack time: what they did not reach was not tested.
grep -H "Max attack time was reached" "$OUT/wapiti.log" "$OUT/wapiti-accounts.log" >&2 || true
status=0
$BIN/python scan/summary.py "$OUT/wapiti.json" || status=1
echo "== the account pages (password change, second factor), scanned on their own"
$BIN/python scan/summary.py "$OUT/wapiti-accounts.json" || status=1
exit $status
