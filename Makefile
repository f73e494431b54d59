# `make demo` and `make test` set themselves up: they create .venv (python3 -m venv) when it is
# missing and install the package, editable, with its test extra.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The map assets (Leaflet and plugins) from the npm registry, fetched once: the browser tests and
# `assets="inline"` maps read them here. Skipped (with a message) where npm is missing.
ASSETS := .cache/map-assets
ASSETS_STAMP := $(ASSETS)/.fetched

.PHONY: demo test lint check bench setup assets mutation clean docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/cdv-geo demo --out maps/

# Re-run when the pinned packages change (their list lives in assets.py).
$(ASSETS_STAMP): $(STAMP) src/cdv_geo/maps/assets.py
	@if command -v npm >/dev/null 2>&1; then \
	    mkdir -p $(ASSETS) && \
	    $(BIN)/python -m cdv_geo.maps.assets --npm-packages > $(ASSETS)/packages.txt && \
	    xargs npm install --prefix $(ASSETS) --no-audit --no-fund --no-save --ignore-scripts \
	        --loglevel=error < $(ASSETS)/packages.txt && touch $@; \
	else echo "npm not found: map assets not fetched, the browser tests will skip"; fi

assets: $(ASSETS_STAMP)

# The house rules (DESIGN.md): ruff (style, complexity), the import contract (layers import
# downward only), no private name across modules, module and function sizes.
check: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_architecture.py

test: check assets
	CDV_GEO_TEST_ASSETS=$${CDV_GEO_TEST_ASSETS:-$(CURDIR)/$(ASSETS)/node_modules} \
	    $(BIN)/python -m pytest -n 2

lint: check
	$(BIN)/mypy

# The documentation site into site/: the gallery from a fresh demo (or from the pack in
# GALLERY_PACK, e.g. `make docs GALLERY_PACK=maps/`) into .cache/docs-gallery, then mkdocs with
# --strict (a broken link, a bad cross-reference or a public name without docstring fails).
docs: $(STAMP) assets
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python scripts/docs_gallery.py $(if $(GALLERY_PACK),--pack $(GALLERY_PACK))
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	for f in scripts/bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

# Mutation testing of core/ and metrics/ (slow): first the known mutants of DESIGN's rules,
# planted one by one, must each make the suite fail; then mutmut over both layers.
mutation: $(STAMP)
	$(BIN)/python scripts/plant_mutants.py
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) build dist mutants site .cache .pytest_cache .mypy_cache .ruff_cache
