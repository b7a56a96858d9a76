#!/usr/bin/env bash
# Copy a finished training run's final weights, config and model card into sdk/weights/NAME.
set -euo pipefail
name="$1"; run="$2"
dest="sdk/weights/$name"
mkdir -p "$dest"
cp "$run/config.json" "$run/model.weights.h5" "$run/model_card.json" "$dest/"
echo "bundled $run -> $dest"
