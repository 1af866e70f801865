# Two commands on a fresh machine:
#   make run    set up, load the demo case, serve on http://127.0.0.1:8000 (SQLite)
#   make test   set up, lint, run the whole suite on SQLite and on PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test
# uv installs the locked packages in seconds where pip took minutes (it downloads in parallel).
UV_VERSION ?= 0.13.9

.PHONY: run test test-sqlite test-postgres lint openapi lock clean

$(STAMP): pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip install --python $(BIN)/python --quiet --constraint requirements.lock --editable '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/entente demo
	$(BIN)/entente serve

# Both databases side by side; see tests/run_suites.py.
test: $(STAMP) lint
	$(BIN)/python -m tests.run_suites "$(POSTGRES)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: $(STAMP)
	$(BIN)/pytest --db=sqlite

# Runs when PostgreSQL answers; ENTENTE_REQUIRE_POSTGRES=1 (set by .ci/run) makes its absence fail.
test-postgres: $(STAMP)
	@if $(BIN)/python -m tests.postgres_ready "$(POSTGRES)"; then \
		ENTENTE_TEST_POSTGRES="$(POSTGRES)" $(BIN)/pytest --db=postgres; \
	elif [ "$${ENTENTE_REQUIRE_POSTGRES:-0}" = 1 ]; then \
		echo "PostgreSQL is required but not reachable at $(POSTGRES)" >&2; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(POSTGRES): PostgreSQL run skipped"; \
	fi

openapi: $(STAMP)
	$(BIN)/entente openapi

lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable --exclude uv > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# The benchmark suite beside its bare baselines, SQLite then PostgreSQL; see bench/README.md.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench.run --db both

# Webhook delivery bench, SQLite then PostgreSQL (postgresql://postgres@127.0.0.1:5432); see bench/README.md.
.PHONY: bench-webhooks
bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhooks --db both

# Web client strings: extract them and merge them into the French catalog (then translate).
.PHONY: translations
translations: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output --project=Entente -F babel.cfg -o service/web/translations/messages.pot .
	test -f service/web/translations/fr/LC_MESSAGES/messages.po || \
		$(BIN)/pybabel init -i service/web/translations/messages.pot -d service/web/translations -l fr
	$(BIN)/pybabel update --no-fuzzy-matching -i service/web/translations/messages.pot -d service/web/translations -l fr

# Screenshots of the main pages (docs/screenshots/, shown in the README), taken by the browser
# tests on SQLite; see tests/web/test_browser_screenshots.py.
.PHONY: screenshots
screenshots: $(STAMP)
	ENTENTE_SCREENSHOTS=1 $(BIN)/pytest --db=sqlite -p no:cacheprovider tests/web/test_browser_screenshots.py
