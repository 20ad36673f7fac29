#!/usr/bin/env bash
# Retrains the demo diffusion prior in models/demo/prior from the images of the macaque V4 sessions
# ($EXCITE_V4_DATA, see docs/testing.md): `npm run train:prior`. CPU only; about 90-120 minutes on 2
# cores. Extra arguments go to `excite train-prior` (e.g. `npm run train:prior -- --steps 2000`).
#
# Images: the nine sessions that have no published compact models (all their images, byte-identical
# duplicates kept once); the test sessions 201025 and 210225 are left out so that their images stay
# unseen by the prior. Grayscale, random square crops (0.6-1 of the side), horizontal flips, 40x40.
# The run checkpoints to models/demo/prior/.checkpoint every 250 steps and resumes from there when
# started again; the checkpoint is deleted once the prior is written. Then 4x4 grids of unguided
# samples (100 ancestral steps, seed 1) go to models/demo/prior/samples.png (as EGG samples: x0
# not clipped) and samples-clipped.png (the same noise with x0 clipped to [-1, 1] at each step).
# To continue the shipped prior instead of starting afresh (as this release did: 1500 steps, then
# 2000 more from those weights): `npm run train:prior -- --init models/demo/prior --steps 2000
# --lr 2e-4 --seed 2` (later options win).
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${EXCITE_V4_DATA:-../shared/data/v4}/sessions"
[ -d "$data" ] || { echo "no V4 sessions at $data: set EXCITE_V4_DATA" >&2; exit 1; }
# the excite command line ($EXCITE_CLI to run another entry point)
read -r -a excite <<< "${EXCITE_CLI:-npx excite}"
train_sessions=(190925 190927 190928 190929 210224 210305 210322 210325 210621)
data_args=()
for s in "${train_sessions[@]}"; do data_args+=(--data "$data/$s"); done

start=$(date +%s)
"${excite[@]}" train-prior "${data_args[@]}" --out models/demo/prior \
  --steps 3500 --batch 32 --lr 5e-4 --ema 0.999 --seed 1 --checkpoint-every 250 "$@"
"${excite[@]}" sample-prior --prior models/demo/prior --n 16 --steps 100 --seed 1 --scale 4 --out models/demo/prior/samples.png
"${excite[@]}" sample-prior --prior models/demo/prior --n 16 --steps 100 --seed 1 --scale 4 --clip-denoised --out models/demo/prior/samples-clipped.png
echo "train-prior.sh took $(( ($(date +%s) - start) / 60 )) minutes on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
