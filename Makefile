# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-study

.PHONY: demo test bench system-deps viewer clean

VIEWER := src/immunopet/view/web
NIIVUE := $(VIEWER)/node_modules/@niivue/niivue/package.json

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The viewer's browser module (Niivue) from the npm registry, pinned by package-lock.json.
$(NIIVUE): $(VIEWER)/package.json $(VIEWER)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "viewer: npm not found; install it with apt (npm) or run make system-deps" >&2; exit 1; }
	npm ci --prefix $(VIEWER) --no-audit --no-fund --loglevel=error
	touch $(NIIVUE)

viewer: $(NIIVUE)

demo: $(STAMP) $(NIIVUE)
	$(BIN)/immunopet demo $(DEMO_DIR)

system-deps:
	bash scripts/system-deps.sh

test: $(STAMP) system-deps
	$(MAKE) viewer
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache $(VIEWER)/node_modules
