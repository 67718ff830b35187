# The README's two commands: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SEED := fixtures/generative-ai-flashcards.txt
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format browser bench bench-instructions check-deploy clean

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
	$(BIN)/python manage.py import_deck $(SEED) --public
	$(BIN)/python manage.py create_local_accounts
	@echo "Studyapp is serving on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

browser:
	@scripts/ensure-chromium

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install browser lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

check-deploy: install
	scripts/check-deploy

bench: install
	$(BIN)/python -m bench.run

bench-instructions: install
	$(BIN)/python -m bench.instructions

clean:
	rm -rf $(VENV) staticfiles test-db.sqlite3*
