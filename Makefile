# Portico. `make demo` runs it with demo data; `make test` runs the test suite.
# Every target creates .venv and installs what it needs when missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install when the dependency list changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 8000
PYTEST_WORKERS ?= 2
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/portico

# The Nu Html Checker and axe-core the browser tests run (vnu-jar and axe-core, pinned in
# package.json/package-lock.json).
VNU_JAR := node_modules/vnu-jar/build/dist/vnu.jar
AXE_JS := node_modules/axe-core/axe.min.js

# The Spanish catalogue: makemessages writes the .po (kept in git), Babel compiles the .mo.
LOCALE_PO := portico/locale/es/LC_MESSAGES/django.po
LOCALE_MO := $(LOCALE_PO:.po=.mo)

.PHONY: demo test test-postgres e2e lint bench ci clean chromium java faketime messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## demo: set up and start Portico on SQLite with demo data (PORT, DATABASE_URL, EMAIL_URL honoured)
demo: $(STAMP) $(LOCALE_MO)
	@case "$${DATABASE_URL:-}" in postgres*) $(BIN)/python scripts/ensure_postgres_db.py "$$DATABASE_URL";; esac
	PORTICO_DEMO=1 PORT=$(PORT) PORTICO_BASE_URL=$${PORTICO_BASE_URL:-http://127.0.0.1:$(PORT)} \
		$(BIN)/portico demo --port $(PORT)

## test: the whole test suite on SQLite (browser tests: make e2e)
test: $(STAMP) $(LOCALE_MO)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e"

## test-postgres: the same suite on PostgreSQL (creates the database if needed)
test-postgres: $(STAMP) $(LOCALE_MO)
	$(BIN)/python scripts/ensure_postgres_db.py "$(POSTGRES_URL)"
	DATABASE_URL="$(POSTGRES_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e"

## e2e: browser tests, Playwright driving Debian's Chromium; the Nu Html Checker and axe-core
## on every page
e2e: $(STAMP) $(LOCALE_MO) chromium java faketime $(VNU_JAR) $(AXE_JS)
	$(BIN)/pytest -m e2e tests/e2e tests/outreach

## messages: gather every marked string into $(LOCALE_PO) (then translate the new ones)
messages: $(STAMP)
	@$(call debian,xgettext,gettext)
	SECRET_KEY=makemessages-only $(BIN)/portico makemessages --locale es --no-obsolete --add-location file \
		--ignore '.venv/*' --ignore 'node_modules/*' --ignore 'tests/*' --ignore 'bench/*' \
		--ignore 'artifacts/*' --ignore 'staticfiles/*' --ignore 'var/*' --ignore 'build/*' \
		--ignore 'scripts/*' --ignore 'docs/*'

# Compiled whenever the catalogue changed; Babel, so no system package is needed.
$(LOCALE_MO): $(LOCALE_PO) $(STAMP)
	$(BIN)/pybabel compile --domain django --directory portico/locale --locale es --statistics

# $(call debian,COMMAND,PACKAGE): install Debian's PACKAGE when COMMAND is missing.
debian = command -v $(1) >/dev/null 2>&1 || { \
	echo "Installing Debian's $(2) (for $(1))"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; }

chromium:
	@$(call debian,chromium,chromium)

java:
	@$(call debian,java,default-jre-headless)

# The browser tests run a second server whose clock is days ahead (a birthday passing).
faketime:
	@$(call debian,faketime,faketime)

# npm ci when node_modules is missing or the lock file changed (one run installs both files:
# a grouped target). --ignore-scripts: vnu-jar's install script would download a Java of its
# own; Debian's (above) serves.
$(VNU_JAR) $(AXE_JS) &: package.json package-lock.json
	@$(call debian,npm,npm)
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(VNU_JAR) $(AXE_JS)

## lint: ruff (checks and format), mypy on every services/selectors module, the import layers
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=type-checking-only $(BIN)/mypy
	$(BIN)/lint-imports

# bench/bulk_invite.py invites 100,000 charts and delivers 20,000 of their emails here (all of
# them with `--deliver` left out), so that `make bench` stays within about ten minutes.
BENCH_ARGS_bulk_invite ?= --patients 100000 --deliver 20000
# bench/messaging_pages.py measures 11 page loads and a 25 MB upload: 6 s each keeps it to
# about four minutes (its data, 100,000 messages on SQLite, is made once and kept in var/).
BENCH_ARGS_messaging_pages ?= --seconds 6
# bench/scheduling.py: open times, the week view (6 s a measurement), the booking race and 20,000
# reminders sent and killed half-way (its data, 100,000 appointments on SQLite, is kept in var/).
BENCH_ARGS_scheduling ?= --seconds 6 --reminders 20000
# bench/booking.py: the public profile and search pages (6 s a measurement) and the booking race
# for one time (its data, 5,000 public profiles with their schedules on SQLite, is kept in var/).
BENCH_ARGS_booking ?= --seconds 6
# bench/intake.py: saving a page of a 60-question form (6 s a measurement) and the staff's day
# list of 2,000 appointments (its data is made once and kept in var/).
BENCH_ARGS_intake ?= --seconds 6
# bench/fhir_api.py: the FHIR API's Observation search and Patient/$everything against the token
# rules floor, first reads and repeat reads (5 s a measurement, two rounds; its data, 800 charts of
# 2,000 shared items with their connected apps, is made once and kept in var/).
BENCH_ARGS_fhir_api ?= --seconds 5 --rounds 2
# The benchmarks themselves (bench/floor_wsgi.py and bench/compat.py are their helpers).
BENCHES := bench/record_pages.py bench/bulk_invite.py bench/email_drain.py bench/messaging_pages.py \
	bench/scheduling.py bench/booking.py bench/intake.py bench/fhir_api.py
bench: $(STAMP)
	@status=0; for b in $(BENCHES); do \
		case $$b in bench/bulk_invite.py) args="$(BENCH_ARGS_bulk_invite)";; \
			bench/messaging_pages.py) args="$(BENCH_ARGS_messaging_pages)";; \
			bench/scheduling.py) args="$(BENCH_ARGS_scheduling)";; \
			bench/booking.py) args="$(BENCH_ARGS_booking)";; \
			bench/intake.py) args="$(BENCH_ARGS_intake)";; \
			bench/fhir_api.py) args="$(BENCH_ARGS_fhir_api)";; *) args="";; esac; \
		$(BIN)/python $$b $$args || status=1; done; exit $$status

ci: lint test test-postgres e2e

clean:
	rm -rf $(VENV) var artifacts .pytest_cache staticfiles node_modules
