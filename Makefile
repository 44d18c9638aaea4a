# The two commands of README.md: `make book` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Hash of the package source: when it changes, cached chapter executions are stale.
PKG_HASH = $(shell find rum_core -name '*.py' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
JB_CACHE := _build/.jupyter_cache
BOOK_ENV := RUM_PROGRESS=0 OMP_NUM_THREADS=1

.PHONY: book test lint venv clean book-clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e '.[book,dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

# Lint, unit tests, and every chapter executed at the `smoke` profile (nbmake), in a throwaway cache.
test: lint
	@cache=$$(mktemp -d) && trap 'rm -rf "$$cache"' EXIT && \
	RUM_CACHE="$$cache" RUM_PROFILE=smoke $(BOOK_ENV) $(BIN)/pytest tests --nbmake book $(PYTEST_ARGS)

# Execute every chapter (reusing the execution cache unless rum_core changed) and render _build/html.
# FORCE=1 executes every chapter from scratch (what CI does).
book: $(STAMP)
	@mkdir -p _build
	@all=""; if [ -n "$(FORCE)" ] || [ "$$(cat _build/.rum_core-hash 2>/dev/null)" != "$(PKG_HASH)" ]; then \
	  echo "rum_core changed (or FORCE set): clearing the execution cache and re-reading every page"; \
	  rm -rf $(JB_CACHE); all="--all"; fi; \
	$(BOOK_ENV) $(BIN)/jupyter-book build . --warningiserror --keep-going $$all && \
	echo "$(PKG_HASH)" > _build/.rum_core-hash
	@echo "Book: $(CURDIR)/_build/html/index.html"

book-clean:
	rm -rf _build

clean: book-clean
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
