#!/usr/bin/env bash
# Retrains the demo encoders in models/demo from the macaque V4 recordings
# ($EXCITE_V4_DATA, see docs/testing.md): `npm run train:demo`. CPU only; an estimated 2.8-2.9 hours on an idle 2-core machine (about 4 beside other jobs)
# (docs/encoders.md, Demo models). Stop it any time: running it again resumes.
#
# 0. Teacher data (distillation): the published compact models of session 211022, which no
#    benchmark evaluates, predict the training sessions' images (grayscale); their predictions are
#    one more "session" the cores learn from (docs/encoders.md, Distillation).
# 1. Cores: each member trains a data-driven core with one readout per session on the eight
#    sessions that have no published compact models, all images (10% for validation), plus the
#    teacher data. 210325 is left out: its raw repeats give a noise ceiling, so npm run
#    bench:encoders fits a readout on its first half and tests on the second, which no core may
#    have seen. attention-train: seeds 1, 2, a 48-channel core (the generator: the widest core
#    gave the best r and the best EGG MEIs measured); attention-val: seeds 3, 4, the preset's
#    32 channels (other seeds and another width, and two wide ensembles would take the run past
#    3 hours); gaussian-cross: seeds 5, 6, Gaussian readout on a different core (demo-alt: 7x7, 3x3
#    kernels). Each core trains 8 epochs, then 8 more continued from them (train --init: the same
#    seeds and validation images, a fresh learning-rate schedule); the distilled cores were still
#    improving at epoch 8. The cores train with excite's first recipe (9-point Laplacian, batch-norm momentum
#    0.1, queries under L1), which gave cores that transfer better to new sessions than the paper
#    code's recipe did (docs/encoders.md, The recipe and its ablation).
# 2. Readouts: for the test sessions 201025 and 210225, new readouts fitted on images 0..599 with
#    each member's core frozen, with fit-readout's defaults (no L1 on the queries, queries and
#    feature weights starting at 1/C, so that the attention can localize) and patience 6; the
#    attention readouts also without L1 on their feature weights (--readout-l1 0: +0.01 and +0.03
#    median r over the default weight 1 on the shipped cores) and with a weak attention entropy
#    penalty (--attention-entropy 0.002: most neurons hold half of their attention in under a tenth
#    of the map, at no cost in r; docs/encoders.md).
#    Images 600..1199 stay unseen (npm run bench:encoders).
# 3. Snapshot ensembles: attention-train and attention-val are the 16-epoch and the 8-epoch
#    snapshots of both their cores, four members (excite ensemble). The extra members cost only
#    their readouts, and as a generator they make EGG MEIs that drive the ground-truth neurons more
#    than the two 16-epoch members alone (docs/encoders.md, Demo models).
# Arguments name the models to retrain (default all three): bash models/demo/train.sh attention-val
# Two ensembles train side by side, one thread each (EXCITE_THREADS=1), the third when one is done:
# a training holds about 8 GB, and three side by side ran out of a 24 GB machine's memory. DEMO_JOBS
# sets how many run at once (1: one after another with all cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
source models/demo/encoder-data.sh
work=models/demo/.work
mkdir -p "$work"
epochs=(--max-epochs 8 --patience 2)
recipe=(--laplace-stencil 9 --bn-momentum 0.1 --readout-init normal)

start=$(date +%s)
[ -d "$teacher" ] || "${excite[@]}" teacher-data --teacher "$v4/compact/211022" "${data_args[@]}" --views 1 --out "$teacher"

member_flags() { # name -> arch, preset, seed, core channels (- for the preset's)
  case "$1" in
    attention-train) echo "attention demo 1 48" ;;
    attention-val) echo "attention demo 3 -" ;;
    gaussian-cross) echo "gaussian demo-alt 5 -" ;;
  esac
}
one() {
  local name=$1 arch preset seed channels width=()
  read -r arch preset seed channels <<< "$(member_flags "$name")"
  [ "$channels" = - ] || width=(--channels "$channels")
  "${excite[@]}" train "${data_args[@]}" --data "$teacher" --arch "$arch" --preset "$preset" "${width[@]}" --members 2 --seed "$seed" \
    "${epochs[@]}" "${recipe[@]}" --quiet --out "$work/core-$name"
  "${excite[@]}" train "${data_args[@]}" --data "$teacher" --init "$work/core-$name" \
    "${epochs[@]}" "${recipe[@]}" --quiet --out "$work/core-$name-continued"
  # readouts on the 16-epoch cores; the attention models also on the 8-epoch snapshots, and then
  # all four members as one ensemble
  local snapshots=(16) epochs core readout=()
  [ "$arch" = attention ] && snapshots=(16 8) readout=("${attention_readout[@]}")
  for epochs in "${snapshots[@]}"; do
    core="$work/core-$name"; [ "$epochs" = 16 ] && core="$work/core-$name-continued"
    rm -rf "$work/$name-$epochs"
    "${excite[@]}" fit-readout --core "$core" --data "$data/201025" --data "$data/210225" --images 0:600 \
      --max-epochs 200 --patience 6 "${readout[@]}" --quiet --out "$work/$name-$epochs"
  done
  rm -rf "models/demo/$name"
  "${excite[@]}" ensemble "${snapshots[@]/#/$work/$name-}" --out "models/demo/$name"
}
names=("${@:-attention-train attention-val gaussian-cross}")
read -r -a names <<< "${names[*]}"
jobs_at_once=${DEMO_JOBS:-2}
if [ "$jobs_at_once" = 1 ]; then
  for n in "${names[@]}"; do one "$n"; done
else
  failed=0
  for n in "${names[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_at_once" ]; do wait -n || failed=1; done
    (export EXCITE_THREADS=1; one "$n") > "$work/$n.log" 2>&1 &
  done
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
  [ "$failed" = 0 ] || { echo "a model failed to train: see $work/*.log" >&2; exit 1; }
fi
echo "demo models retrained in $(( ($(date +%s) - start) / 60 )) minutes on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
