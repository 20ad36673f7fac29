#!/usr/bin/env bash
# Retrains the demo encoders in models/demo from the macaque V4 recordings
# ($EXCITE_V4_DATA, see docs/testing.md): `npm run train:demo`. CPU only; under an hour on 2 cores.
#
# 1. Cores: each member trains a data-driven core with one readout per session on the eight
#    sessions that have no published compact models, all images (10% for validation). 210325 is
#    left out: its raw repeats give a noise ceiling, so npm run bench:encoders fits a readout on
#    its first half and tests on the second, which no core may have seen.
#    attention-train: seeds 1, 2; attention-val: seeds 3, 4 (same architecture, other seeds);
#    gaussian-cross: seeds 5, 6, Gaussian readout on a different core (demo-alt: 7x7, 3x3 kernels).
# 2. Readouts: for the test sessions 201025 and 210225, new readouts fitted on images 0..599 with
#    each member's core frozen. Images 600..1199 stay unseen (npm run bench:encoders).
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${EXCITE_V4_DATA:-../shared/data/v4}/sessions"
[ -d "$data" ] || { echo "no V4 sessions at $data: set EXCITE_V4_DATA" >&2; exit 1; }
work=models/demo/.work
mkdir -p "$work"
train_sessions=(190925 190927 190928 190929 210224 210305 210322 210621)
data_args=()
for s in "${train_sessions[@]}"; do data_args+=(--data "$data/$s"); done
epochs=(--max-epochs 8 --patience 2)

start=$(date +%s)
npx excite train "${data_args[@]}" --arch attention --preset demo --members 2 --seed 1 "${epochs[@]}" --out "$work/core-attention-train"
npx excite train "${data_args[@]}" --arch attention --preset demo --members 2 --seed 3 "${epochs[@]}" --out "$work/core-attention-val"
npx excite train "${data_args[@]}" --arch gaussian --preset demo-alt --members 2 --seed 5 "${epochs[@]}" --out "$work/core-gaussian-cross"
for name in attention-train attention-val gaussian-cross; do
  rm -rf "models/demo/$name"
  npx excite fit-readout --core "$work/core-$name" --data "$data/201025" --data "$data/210225" --images 0:600 \
    --max-epochs 40 --patience 3 --out "models/demo/$name"
done
echo "demo models retrained in $(( ($(date +%s) - start) / 60 )) minutes on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
