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
# Optional flags of `diagnostic run`: STRICT=1 fails when a source is unavailable, REFRESH=1 re-downloads,
# SANS_PDF=1 skips the PDF, ACCEPTER_PERTE=1 lets a rebuild drop a source the warehouse holds (altered raw file).
RUN_FLAGS := $(if $(MIRROR),--mirror "$(MIRROR)") $(if $(STRICT),--strict) $(if $(REFRESH),--refresh) $(if $(SANS_PDF),--sans-pdf) $(if $(ACCEPTER_PERTE),--accepter-perte)

# Debian packages: WeasyPrint's libraries and fonts (PDF), poppler and Chromium (rendering checks in the tests).
SYSTEM_DEPS := poppler-utils chromium fonts-liberation fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

.PHONY: install system-deps diagnostic evolution ingest build verifier test bench bench-16 batch rapports clean help

help:
	@echo "make diagnostic TERRITOIRE=<territoire> [MIRROR=<dossier|http://127.0.0.1:PORT>] [STRICT=1] [REFRESH=1]"
	@echo "make evolution TERRITOIRE=<territoire> [DEPUIS=<AAAA-MM-JJ|dossier>]   ce qui a changé depuis un diagnostic antérieur, et pourquoi"
	@echo "make test        lance la suite de tests (hors ligne, miroir ../shared/opendata servi en local)"
	@echo "make ingest      télécharge les sources ; make build construit l'entrepôt DuckDB"
	@echo "make verifier [SOURCE=<id>] [JSON=1]   compare en ligne le format publié par chaque producteur à celui que lit le diagnostic"
	@echo "make batch KIND=epci|dep [FICHIER=perimetres.toml]   tables nationales avec rangs (reports/_national/)"
	@echo "make rapports KIND=epci|dep [LIMITE=100] [PDF=1]   rapports par lot (PDF avec PDF=1) (reports/_rapports/)"
	@echo "make bench       banc d'essai : bench/results.json et bench/RESULTS.md"
	@echo "make bench-16    section « rapport » du banc (issue 16) seule, complète, avant/après : ~22 min au plus"

install: $(STAMP) system-deps

system-deps:
	@missing=$$(for p in $(SYSTEM_DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Paquets système manquants : $$missing"; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

diagnostic: $(STAMP) system-deps
	$(BIN)/diagnostic run "$(TERRITOIRE)" $(RUN_FLAGS)

evolution: $(STAMP)
	$(BIN)/diagnostic evolution "$(TERRITOIRE)" $(if $(DEPUIS),--depuis "$(DEPUIS)")

ingest: $(STAMP)
	$(BIN)/diagnostic ingest $(if $(MIRROR),--mirror "$(MIRROR)") $(if $(REFRESH),--refresh)

build: $(STAMP)
	$(BIN)/diagnostic build $(if $(MIRROR),--mirror "$(MIRROR)") $(if $(ACCEPTER_PERTE),--accepter-perte)

verifier: $(STAMP)
	$(BIN)/diagnostic verifier $(if $(SOURCE),--source "$(SOURCE)") $(if $(JSON),--json) $(if $(MIRROR),--mirror "$(MIRROR)")

test: $(STAMP) system-deps
	$(BIN)/python -m pytest

batch: $(STAMP)
	$(BIN)/diagnostic batch $(if $(KIND),--kind $(KIND)) $(if $(FICHIER),--fichier "$(FICHIER)") $(if $(MIRROR),--mirror "$(MIRROR)")

rapports: $(STAMP)
	$(BIN)/diagnostic rapports --kind $(or $(KIND),epci) $(if $(LIMITE),--limite $(LIMITE)) $(if $(PDF),--pdf) $(if $(MIRROR),--mirror "$(MIRROR)")

bench: $(STAMP) system-deps
	$(BIN)/python bench/run.py $(if $(OPENDATA),--opendata "$(OPENDATA)")

bench-16: $(STAMP) system-deps  # issue 16 section alone, full mode, before (79090dc) and after: at most about 22 min
	$(BIN)/python bench/run.py --rapport --complet --runs 3 --avant 79090dc $(if $(OPENDATA),--opendata "$(OPENDATA)")

clean:  # the history of runs (reports/<territoire>/historique/) is kept: the follow-up rests on it
	rm -rf data/processed/*.duckdb reports/.*.tmp
	if [ -d reports ]; then find reports -mindepth 2 -maxdepth 2 ! -name historique -exec rm -rf {} +; fi
