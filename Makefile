# One command per step of working on the book (CONTRIBUTING.md explains the loop).
# Every target sets up what it needs first: `make book` and `make test` work on a
# fresh clone. Times are for this repository's 2-core test machine.
#
#   make book        the site from the stored notebooks, both editions (2-3 min)
#   make setup       .venv from requirements.lock, and the package, editable (3-5 min)
#   make sync        regenerate the package, first cells and Chinese notebooks (20 s)
#   make run         re-execute the stale chapters at full length (see CONTRIBUTING.md)
#   make run CH=04   re-execute chapters whose file name contains 04 (04: about 9 min)
#   make test-fast   the checks without notebooks, site or browser (about 4 min)
#   make test        everything, as CI runs it: bash .ci/run (about 15 min)
#   make colab       every chapter on Colab's Python and versions (about 8 min)
#   make canary      every chapter on the newest releases (about 6 min)

VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: book setup sync run test-fast test colab canary

$(INSTALLED): requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check \
	  "$$(grep '^pip==' requirements.lock)"
	$(PYTHON) -m pip install --quiet -r requirements.lock
	$(PYTHON) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

setup: $(INSTALLED)

book: $(INSTALLED)
	$(PYTHON) scripts/build_site.py

sync: $(INSTALLED)
	$(PYTHON) scripts/sync_exports.py

CHAPTERS = $(if $(CH),$(or $(wildcard book/*$(CH)*.ipynb),$(error no notebook in \
  book/ has "$(CH)" in its name)))

run: $(INSTALLED)
	bash .ci/corpus
	$(PYTHON) scripts/run_notebooks.py $(CHAPTERS)

test-fast: $(INSTALLED)
	bash .ci/corpus
	$(VENV)/bin/pytest tests -m "not slow"

test:
	bash .ci/run

colab:
	bash .ci/colab

canary:
	bash .ci/canary
