# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SEED_CASES ?= 60
STAMP := $(VENV)/.installed

.PHONY: install system run serve bench lighthouse test lint scan clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## install: the .venv with the project and its test tools; nothing started.
install: $(STAMP)

## run: demo mode on http://127.0.0.1:$(PORT) with the demo accounts printed. Not DEBUG:
## a 404 is the site's page, not Django's list of every URL pattern.
run: install
	@test -n "$$DEMO_PASSWORD" || test -s .demo-password || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))" > .demo-password
	DJANGO_DEBUG=0 DJANGO_DEMO=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=0 DJANGO_DEMO=1 $(BIN)/python manage.py load_default_content
	@# Read in the shell, when this line runs: a make-time $$(shell cat) ran before the line
	@# above wrote the file, so a first run printed a password that the file did not hold.
	DJANGO_DEBUG=0 DJANGO_DEMO=1 DEMO_PASSWORD="$${DEMO_PASSWORD:-$$(cat .demo-password)}" $(BIN)/python manage.py seed_demo --cases $(SEED_CASES) --seed 1
	@# Static files as `make serve` has them: hashed names and gzip/Brotli copies (docs/lighthouse.md).
	DJANGO_DEBUG=0 DJANGO_DEMO=1 $(BIN)/python manage.py collectstatic --noinput -v 0
	@echo "Serving on http://127.0.0.1:$(PORT)/ (log in with an account above)"
	DJANGO_DEBUG=0 DJANGO_DEMO=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## serve: production-like: migrate, collectstatic, gunicorn (gthread) + whitenoise on $(PORT).
## Needs the production settings in the environment (DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
## DATABASE_URL ...); see README "Serving in production".
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_default_content
	$(BIN)/python manage.py collectstatic --noinput -v 0
	PORT=$(PORT) $(BIN)/gunicorn -c clinic/gunicorn.conf.py clinic.wsgi

## bench: queries, CPU and the paired-latency ratio per page at 1,000 and 50,000 cases.
bench: install
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

## lighthouse: Lighthouse (npm, pinned in bench/lighthouse/) in Debian's Chromium on the case
## list, a section page and the review page, served as `make run` serves them on a free port
## with a scratch database; scores in docs/lighthouse.md (LIGHTHOUSE_ARGS: --runs N).
lighthouse: install system
	$(BIN)/python bench/lighthouse.py $(LIGHTHOUSE_ARGS)

## system: what the suite needs from the system, not from pip: Debian's Chromium for the
## browser tests (Playwright's own download cannot reach its CDN) and a Japanese font (a PDF
## test reads back Japanese text). Installed through apt-get when missing and run as root;
## otherwise one line naming the command, and make stops. CHROMIUM_PATH names another
## Chromium; APT_GET another apt-get (a dry run: APT_GET="echo apt-get").
APT_GET ?= apt-get
system:
	@missing=""; \
	if [ -n "$$CHROMIUM_PATH" ]; then test -x "$$CHROMIUM_PATH" || missing="chromium"; \
	else command -v chromium >/dev/null 2>&1 || missing="chromium"; fi; \
	fc-list :lang=ja 2>/dev/null | grep -q . || missing="$$missing fonts-ipafont-gothic"; \
	missing=$$(echo $$missing); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v $(firstword $(APT_GET)) >/dev/null 2>&1; then \
		echo "Installing $$missing (apt-get) for the browser and PDF tests"; \
		DEBIAN_FRONTEND=noninteractive $(APT_GET) update -qq && \
		DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing >/dev/null; \
	else \
		echo "make test needs $$missing: run  sudo apt-get install -y $$missing  (or set CHROMIUM_PATH), then make test again" >&2; \
		exit 1; \
	fi

## test: install what the tests need, then run the whole suite (25 generated examples per
## property test; HYPOTHESIS_PROFILE=ci for CI's 200), one worker per core (pytest-xdist;
## TEST_WORKERS=0 for one process; PYTEST_ARGS="tests/test_x.py" narrows it).
TEST_WORKERS ?= auto
test: install system
	$(BIN)/ruff check .
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	$(TEST_ENV) $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The environment the suite expects, whatever the shell exported (DJANGO_DEMO=1 from a
# `make run` session would switch off the second factor and HTTPS): every DJANGO_* variable
# and every other one clinic/settings.py or seed_demo reads is cleared, then the few the
# suite needs are set. DATABASE_URL passes through (CI runs PostgreSQL with it), as do
# HYPOTHESIS_PROFILE (.ci/run: ci) and CHROMIUM_PATH.
TEST_ENV = env $$(env | sed -n 's/^\(DJANGO_[A-Za-z0-9_]*\)=.*/-u \1/p') \
	-u BENCH_ENDPOINTS -u LEGAL_STALE_DAYS -u DEMO_PASSWORD \
	DJANGO_SETTINGS_MODULE=clinic.settings DJANGO_DEBUG=0 \
	DJANGO_SECRET_KEY=test-only-key-not-for-production-$$(printf '%050d' 0) \
	DJANGO_ALLOWED_HOSTS=testserver,localhost,127.0.0.1

## scan: wapiti against gunicorn with production settings over HTTPS on 127.0.0.1, signed in
## as a clinician; report in scan-results/, fails on any high-severity finding.
scan: install
	bash scan/run.sh

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
