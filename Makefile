# Two commands a newcomer needs: `make demo` and `make test`. Both set everything up
# (venv, Python extras, npm packages, Debian packages) and are safe to run twice.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
SYS_STAMP := .ci/.system-installed
DATA   := data/synth
PYTEST_ARGS ?=

.PHONY: setup demo test lint data weights weights-fast weights-accurate clean

setup: $(SYS_STAMP) $(PY_STAMP) $(NPM_STAMP)

$(SYS_STAMP): .ci/install-system.sh
	bash .ci/install-system.sh
	touch $@

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[runtime,export,serve,bench,dev]"
	touch $@

$(NPM_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# The synthetic dataset the bundled weights are trained on (deterministic, ~80 s with 2
# workers); regenerated whenever the generator changes.
SYNTH_SOURCES := $(addprefix sdk/data/,synth.py scene.py shapes.py backgrounds.py)
$(DATA)/README.md: $(SYNTH_SOURCES) | $(PY_STAMP)
	$(BIN)/sdk data synth --out $(DATA) --seed 0 --train 3000 --val 300 --test 500 --workers 2 \
	    --overwrite

data: $(DATA)/README.md

# Serve the web demo on the LAN (missing TF.js exports of the bundled models are built on
# first start). Open the printed URL, or scan the QR code with a phone.
demo: setup
	$(BIN)/sdk serve --host 0.0.0.0 --port 8000

test: setup
	$(BIN)/ruff check .
	bash .ci/postgres.sh
	. .ci/postgres.env && $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(PY_STAMP)
	$(BIN)/ruff check .

# Train the bundled defaults from scratch on this CPU, resumably: every epoch is
# checkpointed in training/<arch>/ (committed, so training continues across machines and
# sessions), and the result -- or the latest checkpoint, with an interim model card -- is
# bundled into sdk/weights/<arch>. See MODELS.md for timings.
weights: weights-fast weights-accurate

weights-fast: data
	$(BIN)/sdk train --arch fast --data $(DATA) --out training/fast --epochs 36 \
	    --batch-size 16 --lr 6e-3 --seed 0 --resume
	bash .ci/bundle-weights.sh fast training/fast $(DATA)

weights-accurate: data
	$(BIN)/sdk train --arch accurate --data $(DATA) --out training/accurate --epochs 32 \
	    --batch-size 12 --lr 4e-3 --seed 0 --resume
	bash .ci/bundle-weights.sh accurate training/accurate $(DATA)

clean:
	rm -rf $(VENV) node_modules $(SYS_STAMP) .pytest_cache
