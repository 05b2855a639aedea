# Two commands do all set-up on a fresh Python 3.11 machine:
#   make run    set up .venv if needed, then start the app on http://127.0.0.1:7860
#   make test   set up .venv if needed, lint and check the format with ruff, then run the whole test suite
# (make test-fast: the same without the tests marked slow)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench clean browser

$(STAMP): requirements.txt requirements-offline.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -r requirements-offline.txt
	touch $(STAMP)

# The browser test drives Debian's Chromium; install it when we can (root with apt-get), else it is skipped.
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) ; } || \
	  echo "note: no /usr/bin/chromium; the browser end-to-end test will be skipped"

run: $(STAMP)
	$(BIN)/python app.py

test: $(STAMP) browser
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m pytest

# A contributor's quick loop: lint, then every test but those marked slow (browsers, the load test, tests that
# train or wait for a job); make test still runs them all
test-fast: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/cold_start.py

clean:
	rm -rf $(VENV) workspace .pytest_cache
