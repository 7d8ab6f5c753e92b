# Two commands: `make run` (the demo) and `make test` (every test). See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432
TEST_DATABASE_URL ?= $(PG_URL)/portal
PORT ?= 8000

.PHONY: run test test-sqlite test-pg test-pg-split lint demo-data messages

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

var:
	@mkdir -p var

# The demo's own SECRET_KEY, made once (the settings refuse to start without one).
var/secret_key: | var
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# Every demo process runs with the demo's key and port.
DEMO_ENV = SECRET_KEY="$$(cat var/secret_key)" PUBLIC_PORT=$(PORT)

# The task worker runs at nice 10: the mirror and the web server go first for the CPU.
# gunicorn's control socket is off: its default path (~/.gunicorn) would clash between two demos.
# The demo's mail: Django's file backend, one file per message under var/mail (every process
# of `make run` inherits these; set EMAIL_BACKEND/EMAIL_HOST to send for real).
# The demo's own time-stamp authority (a DEMONSTRATION certificate) listens on a free port of
# 127.0.0.1; the seals made by the task worker use it (TSA_URL).
run: export EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend
run: export EMAIL_FILE_PATH ?= $(CURDIR)/var/mail
run: $(BIN)/.installed var/secret_key | var
	@bin/system-deps
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput -v 0
	$(DEMO_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	@rm -f var/demo-tsa.url
	@$(DEMO_ENV) $(BIN)/python manage.py demo_tsa --url-file var/demo-tsa.url & tsa=$$!; \
	  trap 'kill $$tsa $$follower $$worker 2>/dev/null; wait' EXIT; \
	  while [ ! -s var/demo-tsa.url ]; do kill -0 $$tsa || exit 1; sleep 0.2; done; \
	  export TSA_URL=$$(cat var/demo-tsa.url); \
	  $(DEMO_ENV) $(BIN)/python manage.py demo || exit 1; \
	  echo "Serving on http://localhost:$(PORT)/ (Ctrl+C stops the server, the ERP follower, the task worker and the demo TSA)"; \
	  echo "E-mail goes to files in $(EMAIL_FILE_PATH)/ (one per message; EMAIL_BACKEND=$(EMAIL_BACKEND))"; \
	  echo "A new proposal (the customer's mail lands there): SECRET_KEY=\$$(cat var/secret_key) $(BIN)/python manage.py erp_demo propose"; \
	  $(DEMO_ENV) $(BIN)/python manage.py erp_sync --follow & follower=$$!; \
	  $(DEMO_ENV) nice -n 10 $(BIN)/python manage.py db_worker & worker=$$!; \
	  $(DEMO_ENV) $(BIN)/gunicorn portal.wsgi -b 0.0.0.0:$(PORT) -w 3 --access-logfile - --no-control-socket

test: $(BIN)/.installed
	@bin/system-deps --test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(MAKE) --no-print-directory test-sqlite test-pg test-pg-split

# The embedded default: SQLite, ERP tables in the portal's database. Browser tests run here.
test-sqlite: $(BIN)/.installed
	env -u DATABASE_URL -u ERP_DATABASE_URL $(BIN)/pytest -q

# PostgreSQL, one database shared with the ERP (production's layout). Fails if it is down.
test-pg: $(BIN)/.installed
	@$(BIN)/python -m tests.require_postgres "$(TEST_DATABASE_URL)"
	DATABASE_URL="$(TEST_DATABASE_URL)" REQUIRE_POSTGRES=1 $(BIN)/pytest -q -m "not e2e"

# PostgreSQL, the ERP's tables in a database of their own (ERP_DATABASE_URL): the tests of
# everything that reads or writes the ERP's database (the mirror, approval, decline, uploads,
# signing, health, nodes, faults, the worker). Pages read only the portal's tables: test-pg
# covers them. `make test-pg-split SPLIT_TESTS=tests` runs every test in this layout.
SPLIT_TESTS ?= tests/erp_sync tests/proposals/test_approval.py tests/proposals/test_decline.py \
  tests/contracts/test_uploads.py tests/contracts/test_uploads_erp_down.py \
  tests/contracts/test_concurrent_uploads.py tests/contracts/test_seal_worker.py \
  tests/contracts/test_signing.py tests/contracts/test_contract_change.py \
  tests/contracts/test_signing_change.py tests/nodes tests/faults tests/portal/test_health.py \
  tests/portal/test_store_once.py tests/background/test_worker.py \
  tests/notifications/test_customer_mails.py tests/notifications/test_company_mails.py
test-pg-split: $(BIN)/.installed
	@$(BIN)/python -m tests.require_postgres "$(TEST_DATABASE_URL)"
	DATABASE_URL="$(TEST_DATABASE_URL)" ERP_DATABASE_URL="$(TEST_DATABASE_URL)_erp" \
	  REQUIRE_POSTGRES=1 $(BIN)/pytest -q -m "not e2e" $(SPLIT_TESTS)

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports --no-cache

# The English catalogue: extract every msgid (pt-BR) from our Python and Jinja2 templates
# (babel.cfg), merge into locale/en/LC_MESSAGES/django.po, compile django.mo. Commit both files;
# tests/portal/test_translations.py fails while a msgid is untranslated or the .mo is stale.
messages: $(BIN)/.installed | var
	$(BIN)/pybabel -q extract -F babel.cfg -k gettext_lazy -k ngettext_lazy:1,2 \
	  -k pgettext_lazy:1c,2 --no-wrap --sort-by-file -o var/django.pot .
	$(BIN)/pybabel -q update -i var/django.pot -d locale -D django -l en --no-wrap \
	  --no-fuzzy-matching --ignore-obsolete
	msgfmt --check -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po
