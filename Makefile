# The README's two commands: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SEED := fixtures/generative-ai-flashcards.txt
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes: one per core (CI's machine has two); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto

.PHONY: install run test lint format browser faketime bench bench-instructions bench-import bench-apkg check-deploy clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: export DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py import_deck $(SEED) --public
	$(BIN)/python manage.py create_local_accounts
	@echo "Studyapp is serving on http://$(HOST):$(PORT)/ with its task worker (Ctrl-C stops both)"
	@# The worker runs imports in the background; the trap stops it whenever runserver ends.
	$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

browser:
	@scripts/ensure-chromium

faketime:
	@scripts/ensure-faketime

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install browser faketime lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

check-deploy: install
	scripts/check-deploy

bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.apkg_import

bench-apkg: install
	$(BIN)/python -m bench.apkg_import

bench-instructions: install
	$(BIN)/python -m bench.instructions

bench-import: install
	$(BIN)/python -m bench.import_contention

clean:
	rm -rf $(VENV) staticfiles test-db.sqlite3*
