#!/usr/bin/env bash
# One row of the encoder ablation (docs/encoders.md, The ablation): `bash models/demo/ablation.sh ROW`.
# Trains one attention core (seed 1; 2 for the wide-seed2 rows) on the eight training sessions with the row's recipe (or, for
# the distill-16/24, cross-teachers and wide-16/24 rows, continues a trained one; see below), fits the
# readouts of the test sessions 201025 and 210225 on their images 0..599 with the core frozen, and
# appends to models/demo/ablation.jsonl the median r on images 600..1199 (which no model saw), how
# peaked the attention is there, and the time each step took on this machine. A row already trained
# is resumed from its checkpoint (models/demo/.work/ablation/ROW), and a finished core is kept (its
# readouts are fitted again; core_seconds is its training time as recorded). Rows entropy-W,
# readout-l1-W, readout-dropout-P, position-S and key-dim-D train no core: they refit the test sessions' readouts of the
# shipped attention-train with, at the shipped L1 weight 0, the attention entropy penalty W
# (`--attention-entropy W`; rows before this release kept the L1 weight 1), the
# readout's L1 weight W (`--readout-l1 W`, 1 by default) or, with the L1 weight at 0, its dropout
# rate P (`--readout-dropout P`, 0.1 by default); row position-S refits them, with the L1 weight at 0,
# with the position code added to the core's map at amplitude S (`--position-scale S`, 1 by default);
# row key-dim-D refits them with the shipped readout recipe (L1 weight 0, entropy penalty 0.002) at
# key dimension D (`--key-dim D`; the demo preset's is 32, below the wide core's 48 channels).
set -euo pipefail
cd "$(dirname "$0")/../.."
source models/demo/encoder-data.sh
row="${1:?usage: ablation.sh ROW (previous, authors, distill, distill-16, distill-shift, distill-64, wide, wide-16, wide-24, wide-seed2, wide-seed2-16, wide-seed2-24, wide-cos-16, wide-seed2-cos-16, distill-24, cross-teachers, entropy-W, readout-l1-W, readout-dropout-P, position-S, key-dim-D)}"
work=models/demo/.work/ablation/$row
mkdir -p "$work"
# core settings: the first recipe's, or the paper code's; readouts: fit-readout's defaults (no L1 on
# the queries, init 1/C), patience 6, except the previous recipe's own readouts
first=(--laplace-stencil 9 --bn-momentum 0.1 --readout-init normal)
readout_flags=(--max-epochs 200 --patience 6)
seed=1
continues= # a row that continues a core for 8 epochs: the row whose core it continues
schedule=() # a continuing row's learning-rate schedule, when not the plateau schedule
case "$row" in
  previous) flags=("${first[@]}"); readout_flags=(--max-epochs 40 --patience 3 --query-l1 1 --readout-init normal) ;;
  authors) flags=(--laplace-stencil 5 --bn-momentum 0.9 --readout-init constant --query-l1 0) ;;
  distill) flags=("${first[@]}" --data "$teacher") ;;
  distill-shift) flags=("${first[@]}" --data "$teacher" --shift 2) ;;
  distill-64) flags=("${first[@]}" --data "$teacher" --input-size 64) ;;
  wide) flags=("${first[@]}" --data "$teacher" --channels 48) ;;
  wide-16) continues=wide ;;
  wide-24) continues=wide-16 ;;
  wide-seed2) seed=2; flags=("${first[@]}" --data "$teacher" --channels 48) ;;
  wide-seed2-16) continues=wide-seed2 ;;
  wide-seed2-24) continues=wide-seed2-16 ;;
  wide-cos-16) continues=wide; schedule=(--lr-schedule cosine) ;;
  wide-seed2-cos-16) continues=wide-seed2; schedule=(--lr-schedule cosine) ;;
  distill-16) continues=distill ;;
  distill-24) continues=distill-16 ;;
  cross-teachers) continues=distill-16 ;;
  entropy-*) flags=(--readout-l1 0 --attention-entropy "${row#entropy-}"); readout_flags+=("${flags[@]}") ;;
  readout-l1-*) flags=(--readout-l1 "${row#readout-l1-}"); readout_flags+=("${flags[@]}") ;;
  readout-dropout-*) flags=(--readout-l1 0 --readout-dropout "${row#readout-dropout-}"); readout_flags+=("${flags[@]}") ;;
  position-*) flags=(--readout-l1 0 --position-scale "${row#position-}"); readout_flags+=("${flags[@]}") ;;
  key-dim-*) flags=("${attention_readout[@]}" --key-dim "${row#key-dim-}"); readout_flags+=("${flags[@]}") ;;
  *) echo "unknown row $row" >&2; exit 1 ;;
esac
if [ -n "$continues" ]; then
  from=models/demo/.work/ablation/$continues/core writer="ablation.sh $continues" # the core it continues, and what writes it
  continuing=(--data "$teacher" --init "$from" --members 1 "${schedule[@]}") # what continue_core adds to the first recipe
  flags=("${first[@]}" "${continuing[@]}") # as the row records them; cross-teachers adds each core's second teacher
  [ "$row" = cross-teachers ] && flags+=(--data "models/demo/.work/cross/teacher-<the other test session>")
fi
# distill-16 continues the distill row's core (32 channels, seed 1) for 8 epochs more: the recipe of
# member 0 of the previous, 32-channel attention-train core, which distill-24 and cross-teachers
# were measured on (that core was train.sh's). wide-16 continues the wide row's core (48 channels)
# for 8 epochs more, and wide-24 continues wide-16's for 8 more (compare with distill-24);
# wide-seed2, wide-seed2-16 and wide-seed2-24 are the same three steps from seed 2, a second member
# for a wide ensemble (the shipped attention-train is wide, wide-16, wide-seed2 and wide-seed2-16).
# wide-cos-16 and wide-seed2-cos-16 are wide-16 and wide-seed2-16 with the 8 epochs more on a cosine
# learning-rate schedule (down to 0 at epoch 8) instead of the plateau schedule, whose rate never
# decayed in these runs (every epoch improved): the same compute, an annealed end.
# Rows that continue distill-16 for 8 epochs more, so that they compare at 24 epochs: distill-24
# with the same data (the control), and
# cross-teachers, where each test session gets its own core taught by 211022 and by the compact
# models of the *other* test session (on 4,400 of the training images), so that no session is ever
# scored by a model that taught its core. Each core's readout is fitted on its own test session only.
continue_core() { # out, extra train flags...
  local out=$1; shift
  [ -d "$from" ] || { echo "$row continues $from, which $writer writes" >&2; exit 1; }
  "${excite[@]}" train "${data_args[@]}" "${continuing[@]}" --max-epochs 8 --patience 2 "${first[@]}" --quiet "$@" --out "$out"
}
cross_teacher() { # test session -> teacher data of the other test session's compact models
  local other=$([ "$1" = 201025 ] && echo 210225 || echo 201025) dir
  dir=models/demo/.work/cross/teacher-$other
  [ -d "$dir" ] || "${excite[@]}" teacher-data --teacher "$v4/compact/$other" --data "$data/190925" --data "$data/210224" \
    --data "$data/210322" --data "$data/210621" --views 1 --out "$dir" >&2
  echo "$dir"
}
if printf '%s\n' "${flags[@]}" | grep -qx -- "$teacher" && [ ! -d "$teacher" ]; then
  # the teacher: the published compact models of 211022, a session that is never evaluated
  "${excite[@]}" teacher-data --teacher "$v4/compact/211022" "${data_args[@]}" --views 1 --out "$teacher"
fi
start=$(date +%s)
fits=("$work/core|201025 210225") # core|sessions: one readout fit per entry, on images 0..599 of its sessions
case "$row" in
  entropy-* | readout-* | position-* | key-dim-*) fits=("models/demo/attention-train|201025 210225") ;;
  cross-teachers)
    # the two held-out cores side by side, one thread each (a training holds about 8 GB); each core's
    # readout is fitted on its own test session only
    declare -A teacher_of
    for s in 201025 210225; do teacher_of[$s]=$(cross_teacher "$s"); done
    for s in 201025 210225; do
      (export EXCITE_THREADS=1; continue_core "$work/core-$s" --data "${teacher_of[$s]}") > "$work/train-$s.log" 2>&1 &
    done
    { wait -n && wait -n; } || { echo "a held-out core failed: see $work/train-*.log" >&2; exit 1; }
    fits=("$work/core-201025|201025" "$work/core-210225|210225") ;;
  *)
    if [ -n "$continues" ]; then continue_core "$work/core"
    else "${excite[@]}" train "${data_args[@]}" --arch attention --preset demo --seed "$seed" --max-epochs 8 --patience 2 --quiet "${flags[@]}" --out "$work/core"
    fi ;;
esac
trained=$(date +%s)
declare -A model_of
for fit in "${fits[@]}"; do
  core=${fit%|*} sessions=(${fit#*|}) out="$work/readouts"
  [ "${#sessions[@]}" = 2 ] || out="$work/readouts-${sessions[0]}"
  rm -rf "$out"
  "${excite[@]}" fit-readout --core "$core" "${sessions[@]/#/--data=$data/}" --images 0:600 --quiet "${readout_flags[@]}" --out "$out"
  for s in "${sessions[@]}"; do model_of[$s]=$out; done
done
fitted=$(date +%s)
for s in 201025 210225; do
  "${excite[@]}" eval --model "${model_of[$s]}" --data "$data/$s" --images 600:1200 --attention --json > "$work/eval-$s.json"
done
node -e '
const [row, flags, train, fit, a, b, core] = process.argv.slice(1);
const fs = require("fs");
const ev = (f) => { const e = JSON.parse(fs.readFileSync(f, "utf8")); return { median_r: +e.median_r.toFixed(4), attention: e.attention }; };
// the core'"'"'s own training time as its model.json records it (a rerun that kept a finished core took seconds)
const coreSeconds = fs.existsSync(core) ? JSON.parse(fs.readFileSync(core, "utf8")).training?.seconds : undefined;
const line = { row, flags: JSON.parse(flags), train_seconds: +train, ...(coreSeconds !== undefined ? { core_seconds: coreSeconds } : {}), fit_seconds: +fit, cpu: require("os").cpus()[0].model, cores: require("os").cpus().length, "201025": ev(a), "210225": ev(b) };
fs.appendFileSync("models/demo/ablation.jsonl", JSON.stringify(line) + "\n");
console.log(JSON.stringify(line));
' "$row" "$(printf '%s\n' "${flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" $((trained - start)) $((fitted - trained)) "$work/eval-201025.json" "$work/eval-210225.json" "$work/core/model.json"
