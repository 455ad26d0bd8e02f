#!/usr/bin/env bash
# Held-out evaluation of a model folder (DISCO or a baseline), as reported in the model card:
#   scripts/evaluate-model.sh <model dir> <out dir>
# For a baseline (--arch regression|classification) steps 1–2 score its one output; step 3 is skipped.
# 1. experiments:score  — ab error, AuC, colorfulness, green/red shares for grey, the training
#    set's mean color, DISCO (predicted anchors; mode and expected anchor colors) and oracle
#    anchors, plus the anchor-path diagnosis (scores.json, scores.md), outputs under images/;
# 2. experiments:eval-fid — FID/KID (project network) of each method's outputs against the photos;
# 3. disco colorize --diverse on six photos (T = 0, 1, 2) for the diversity sheet.
# Needs the photo sets (npx nx run colorize:data).
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(realpath "$1")
out=$(realpath -m "$2")
photos=.cache/disco-photos/photos
mkdir -p "$out"
arch=$(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(j.config.arch ?? "disco")' "$model/disco-model.json")
npx nx run experiments:score -- --model "$model" --heldout "$photos/heldout" --train "$photos/train" --out "$out" --images
if [ "$arch" != disco ]; then methods="$arch-baseline grey"; else methods="disco disco-expected-anchor-colors disco-oracle-anchors grey"; fi
for m in $methods; do
  npx nx run experiments:eval-fid -- --real "$PWD/$photos/heldout" --fake "$out/images/$m" --out "$out/fid-$m.json" | tee "$out/fid-$m.txt"
done
[ "$arch" != disco ] && exit 0
mkdir -p "$out/diverse-in"
for f in python3-sklearn/flower.jpg palapeli-data/citrus-fruits.jpg gnome-control-center-data/tomatoes.jpg \
         scratch/Nature/forest.jpg python3-skimage/chelsea.png gnome-control-center-data/hummingbird.jpg; do
  cp "$photos/heldout/$f" "$out/diverse-in/"
done
npx disco colorize "$out/diverse-in" -o "$out/diverse" --model "$model" --diverse
for t in 0 1 2; do
  mkdir -p "$out/diverse/T$t"
  for f in "$out"/diverse/*_T$t.png; do mv "$f" "$out/diverse/T$t/$(basename "${f%_T$t.png}").png"; done
done
