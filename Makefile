# Anju — developer entry points. Everything runs from the project venv in .venv,
# which `make venv` bootstraps with nothing but python3 (>= 3.11) on PATH.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

MEMBER_PYPROJECTS := $(wildcard contracts/pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml)
# mypy checks workspace packages by name (found from source via mypy_path in pyproject.toml),
# then each test tree on its own, since several of them are a top-level `tests` directory.
MYPY_PACKAGES := anju_contracts eventkit anju_cli anju_devtools $(patsubst services/%,anju_%,$(wildcard services/*))
TEST_TREES := $(wildcard tests libs/*/tests services/*/tests contracts/tests)

.PHONY: venv browser run test lint fmt bench demo manifest clean up down logs permissions fuzz screenshots

venv: $(STAMP)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "python3 >= 3.11 is required, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv

$(STAMP): $(UV) uv.lock pyproject.toml $(MEMBER_PYPROJECTS)
	$(UV) sync --frozen --all-packages
	@touch $@

run: venv
	$(VENV)/bin/anju run

test: venv browser
	$(VENV)/bin/pytest

# The staff console's browser tests (tests/console) drive Debian's chromium, with a Chinese font;
# never a browser downloaded by Playwright. Installed with apt when missing (as root); without apt
# the tests fail saying what to install.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi wqy; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing $(BROWSER_PACKAGES) for the console's browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES); \
	else \
		echo "the console's browser tests need Debian's $(BROWSER_PACKAGES): apt-get install -y $(BROWSER_PACKAGES)"; \
	fi

# The README's pictures of the staff console, taken by its browser tests.
screenshots: venv browser
	ANJU_SCREENSHOTS=$(abspath docs/screenshots) $(VENV)/bin/pytest tests/console -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(addprefix -p ,$(MYPY_PACKAGES))
	$(VENV)/bin/mypy conftest.py
	@set -e; for tree in $(TEST_TREES); do echo "mypy $$tree"; $(VENV)/bin/mypy $$tree; done

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Render the deploy files (compose, k8s, Prometheus, gen-env, Dockerfile) from services/*/service.toml.
manifest: venv
	$(VENV)/bin/anju manifest render

# e.g. make bench BENCH_ARGS="--only relay --only projection --json /tmp/relay.json"
BENCH_ARGS ?=
bench: venv
	$(VENV)/bin/python -m anju_devtools.bench $(BENCH_ARGS)

# docs/permissions.md: every service's role × action table (a test checks it is current).
permissions: venv
	$(VENV)/bin/python tests/architecture/permissions_doc.py

demo: venv
	$(VENV)/bin/anju demo

# Schemathesis against every service's OpenAPI document on a seeded test stack (PostgreSQL from
# DATABASE_URL, a Tansu broker), as an admin and as a grid worker: fails on any 5xx or any answer
# the document does not allow. CI runs a short version of the same test (tests/fuzz).
FUZZ_MAX_EXAMPLES ?= 50
FUZZ_MAX_TIME ?= 180
fuzz: venv
	FUZZ_ROLES=admin,grid_worker,doctor,volunteer_coordinator,liaison FUZZ_PHASES=examples,coverage,fuzzing,stateful \
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) \
		$(VENV)/bin/pytest tests/fuzz -q

# The compose stack (needs a Docker engine): Apache Kafka, PostgreSQL and every service.
up:
	test -f .env || deploy/gen-env.sh > .env
	docker compose up -d --build --wait

down:
	docker compose down

logs:
	docker compose logs -f --tail=100

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
