# The interface of the project. Two commands set everything up on a fresh machine:
#   make diagnostic TERRITOIRE=cpts-centre-saone-et-loire [MIRROR=../shared/opendata]
#   make test
# Each stage also runs alone: make ingest, make build.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TERRITOIRE ?= cpts-centre-saone-et-loire
MIRROR ?=
# Optional flags of `diagnostic run`: STRICT=1 fails when a source is unavailable, REFRESH=1 re-downloads.
RUN_FLAGS := $(if $(MIRROR),--mirror "$(MIRROR)") $(if $(STRICT),--strict) $(if $(REFRESH),--refresh)

.PHONY: install diagnostic ingest build test clean help

help:
	@echo "make diagnostic TERRITOIRE=<territoire> [MIRROR=<dossier|http://127.0.0.1:PORT>] [STRICT=1] [REFRESH=1]"
	@echo "make test        lance la suite de tests (hors ligne, miroir ../shared/opendata servi en local)"
	@echo "make ingest      télécharge les sources ; make build construit l'entrepôt DuckDB"

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

diagnostic: $(STAMP)
	$(BIN)/diagnostic run "$(TERRITOIRE)" $(RUN_FLAGS)

ingest: $(STAMP)
	$(BIN)/diagnostic ingest $(RUN_FLAGS)

build: $(STAMP)
	$(BIN)/diagnostic build $(if $(MIRROR),--mirror "$(MIRROR)")

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf data/processed/*.duckdb reports/*/ reports/.*.tmp
