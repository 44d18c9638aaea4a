# The two commands of README.md: `make book` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Hash of the package source: when it changes, cached chapter executions are stale.
PKG_HASH = $(shell find rum_core -name '*.py' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
JB_CACHE := _build/.jupyter_cache
BOOK_ENV := RUM_PROGRESS=0 OMP_NUM_THREADS=1

.PHONY: book test lint venv clean book-clean sync dist

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e '.[book,dev]'
	@touch $(STAMP)

# ruff over the code and the chapters; the GitHub workflows against GitHub's workflow schema (offline,
# vendored by check-jsonschema: actionlint's PyPI wrapper downloads its binary from GitHub when installed,
# which CI cannot reach, so actionlint itself runs in the workflow, see .github/workflows/book.yml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# Lint, unit tests, and every chapter executed as a plain notebook at the `smoke` profile
# (tests/test_chapters.py), in a throwaway cache.
test: lint
	@cache=$$(mktemp -d) && trap 'rm -rf "$$cache"' EXIT && \
	RUM_CACHE="$$cache" RUM_PROFILE=smoke $(BOOK_ENV) $(BIN)/pytest tests $(PYTEST_ARGS)

# Write the version and the public home of pyproject.toml into _config.yml and every chapter's Colab cell.
sync:
	$(PYTHON) tools/book_meta.py

# dist/: the wheel and a notebooks bundle (chapters + wheel) to upload to Colab or a course site.
dist:
	$(PYTHON) tools/dist.py

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

# Mutation testing with mutmut (configured in pyproject.toml, [tool.mutmut]): mutates rum_core/metrics,
# rum_core/unlearners and rum_core/rum.py in a copy under mutants/ and runs the unit tests that reach each
# mutant (no notebooks). Installs the `mutation` extra into .venv first. Slow, so it is NOT part of
# `make test` or CI. Variables:
#   MUTATE='rum_core.metrics.accuracy.*'  only the mutants whose names match this glob (dotted module path;
#                                         default: all of them)
#   MUTMUT_ARGS='--max-children 2'        extra options of `mutmut run`
# Results stay in mutants/: a rerun retests only what changed; inspect with `$(BIN)/mutmut results` and
# `$(BIN)/mutmut show NAME`. The last lines give the score: killed / total over the selected mutants.
MUTATE ?=
MUTMUT_ARGS ?=

define MUTATION_SUMMARY
import collections, fnmatch, sys
pattern = sys.argv[1] or "*"
status = {}
for line in sys.stdin:
    name, sep, state = line.strip().rpartition(": ")
    if sep and fnmatch.fnmatch(name, pattern):
        status[name] = state
checked = {n: s for n, s in status.items() if s != "not checked"}
counts = collections.Counter(checked.values())
survivors = sorted(n for n, s in checked.items() if s == "survived")
if survivors:
    print(f"surviving mutants ({len(survivors)}):", *survivors[:200], sep="\n    ")
others = ", ".join(f"{s} {k}" for s, k in sorted(counts.items()) if s != "killed") or "none other"
total, killed = len(checked), counts["killed"]
score = f"{100 * killed / total:.1f}%" if total else "n/a"
print(f"Mutation score ({pattern}): killed {killed} / total {total} = {score} ({others})")
endef
export MUTATION_SUMMARY

MUTATION_STAMP := $(VENV)/.mutation-stamp

$(MUTATION_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	@touch $@

.PHONY: mutation
mutation: $(MUTATION_STAMP)
	RUM_PROGRESS=0 OMP_NUM_THREADS=1 $(BIN)/mutmut run $(MUTMUT_ARGS) $(if $(MUTATE),'$(MUTATE)')
	@$(BIN)/mutmut results --all=True | $(BIN)/python -c "$$MUTATION_SUMMARY" '$(MUTATE)'
