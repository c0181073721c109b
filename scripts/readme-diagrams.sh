#!/usr/bin/env bash
# Draws the diagrams the README shows into resources/diagrams (needs graphviz's dot).
set -euo pipefail
cd "$(dirname "$0")/.."

explorer="${EXPLORER:-.venv/bin/resnet-explorer}"
out=resources/diagrams
mkdir -p "$out"
"$explorer" diagram torchvision/resnet34 --fold none -o "$out/resnet34-block.svg"
"$explorer" diagram torchvision/resnet152 --fold repeats -o "$out/resnet152-block-folded.svg"
"$explorer" diagram torchvision/resnet152 --level layer --fold repeats --wrap stages \
  -o "$out/resnet152-layer-folded-wrapped.svg"
