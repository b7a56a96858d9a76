#!/usr/bin/env bash
# Bundle a training run as sdk/weights/NAME: config, weights and model card.
#
#   .ci/bundle-weights.sh NAME RUN_DIR [DATA_DIR]
#
# A finished run (RUN_DIR/model.weights.h5 + model_card.json) is copied as is. An unfinished
# one is bundled from its latest checkpoint with an *interim* model card (epoch reached,
# validation metrics of those very weights), so the defaults can ship while training
# continues across sessions with --resume.
set -euo pipefail
name="$1"; run="$2"; data="${3:-data/synth}"
dest="sdk/weights/$name"
mkdir -p sdk/weights
tmp="$(mktemp -d "sdk/weights/.${name}.XXXX")"
trap 'rm -rf "$tmp"' EXIT
if [ -f "$run/config.json" ]; then
    cp "$run/config.json" "$tmp/"
else  # runs started before train wrote its config up front
    .venv/bin/python -c "import sys; from sdk.data import load_dataset; \
from sdk.models import default_config; \
default_config(sys.argv[1], load_dataset(sys.argv[2], 'train').classes).save(sys.argv[3])" \
        "$name" "$data" "$tmp/config.json"
fi
if [ -f "$run/model_card.json" ] && [ -f "$run/model.weights.h5" ]; then
    cp "$run/model.weights.h5" "$run/model_card.json" "$tmp/"
else
    cp "$run/checkpoint/model.weights.h5" "$tmp/"
    .venv/bin/python - "$tmp" "$run" "$data" <<'PY'
import json, sys
from pathlib import Path
from sdk.data import load_dataset
from sdk.evaluate import evaluate_model
from sdk.train.precise_bn import recalibrate_model_dir
out, run, data = map(Path, sys.argv[1:])
recalibrate_model_dir(out, data)  # checkpoint BN statistics lag the weights
state = json.loads((run / "checkpoint" / "state.json").read_text())
card = {"status": f"interim: epoch {state['epoch']} of {state['options']['epochs']}",
        "options": state["options"], "history": state["history"],
        "train_seconds": round(sum(r["seconds"] for r in state["history"]), 1),
        "metrics": {"val": evaluate_model(out, load_dataset(data, "val"))}}
(out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
print(json.dumps(card["metrics"]))
PY
fi
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "bundled $run -> $dest"
