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
	$(BIN)/pip install --quiet -e ".[runtime,onnx,export,serve,bench,dev]"
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

# Export the bundled models to TF.js (each variant skipped when its folder is complete and
# made from the same weights by the same sdk version; over-budget quantizations are kept and
# flagged by the benchmark), then serve them on the LAN: the server only reads exports/.
# Open the printed URL, or scan the QR code with a phone.
demo: setup
	$(BIN)/sdk export --format tfjs --model fast --quantize fp32,fp16,uint8 --out exports \
	    --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format tfjs --model accurate --quantize fp32,fp16,uint8 --out exports \
	    --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format tflite --model fast --quantize fp32,int8 --out exports \
	    --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format tflite --model accurate --quantize fp32,int8 --out exports \
	    --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format onnx --model fast --quantize fp32,int8 --out exports \
	    --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format onnx --model accurate --quantize fp32,int8 --out exports \
	    --skip-up-to-date --allow-degraded
	$(BIN)/sdk serve --host 0.0.0.0 --port 8000 --exports exports

test: setup
	$(BIN)/ruff check .
	bash .ci/postgres.sh
	. .ci/postgres.env && $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(PY_STAMP)
	$(BIN)/ruff check .

# Train the bundled defaults from scratch on this CPU, resumably: every epoch is
# checkpointed in the run folder training/<arch>/ (not committed: a fresh clone trains from
# epoch 1; to continue a run on another machine, copy that folder there), and the result --
# or the latest checkpoint, with an interim model card -- is bundled into sdk/weights/<arch>
# (committed). A finished run with the same options, config and data is a no-op; to train
# again, delete training/<arch>. See MODELS.md for timings.
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
