#!/usr/bin/env bash
# One row of the encoder ablation (docs/encoders.md, The ablation): `bash models/demo/ablation.sh ROW`.
# Trains one attention core (seed 1) on the eight training sessions with the row's recipe, fits the
# readouts of the test sessions 201025 and 210225 on their images 0..599 with the core frozen, and
# appends to models/demo/ablation.jsonl the median r on images 600..1199 (which no model saw), how
# peaked the attention is there, and the time each step took on this machine. A row already trained
# is resumed from its checkpoint (models/demo/.work/ablation/ROW).
set -euo pipefail
cd "$(dirname "$0")/../.."
source models/demo/encoder-data.sh
row="${1:?usage: ablation.sh ROW (previous, authors, distill, distill-shift, distill-64, wide)}"
work=models/demo/.work/ablation/$row
mkdir -p "$work"
# core settings: the first recipe's, or the paper code's; readouts: fit-readout's defaults (no L1 on
# the queries, init 1/C), patience 6, except the previous recipe's own readouts
first=(--laplace-stencil 9 --bn-momentum 0.1 --readout-init normal)
readout_flags=(--max-epochs 200 --patience 6)
case "$row" in
  previous) flags=("${first[@]}"); readout_flags=(--max-epochs 40 --patience 3 --query-l1 1 --readout-init normal) ;;
  authors) flags=(--laplace-stencil 5 --bn-momentum 0.9 --readout-init constant --query-l1 0) ;;
  distill) flags=("${first[@]}" --data "$teacher") ;;
  distill-shift) flags=("${first[@]}" --data "$teacher" --shift 2) ;;
  distill-64) flags=("${first[@]}" --data "$teacher" --input-size 64) ;;
  wide) flags=("${first[@]}" --data "$teacher" --channels 48) ;;
  *) echo "unknown row $row" >&2; exit 1 ;;
esac
if printf '%s\n' "${flags[@]}" | grep -qx -- "$teacher" && [ ! -d "$teacher" ]; then
  # the teacher: the published compact models of 211022, a session that is never evaluated
  "${excite[@]}" teacher-data --teacher "$v4/compact/211022" "${data_args[@]}" --views 1 --out "$teacher"
fi
start=$(date +%s)
"${excite[@]}" train "${data_args[@]}" --arch attention --preset demo --seed 1 --max-epochs 8 --patience 2 --quiet "${flags[@]}" --out "$work/core"
trained=$(date +%s)
rm -rf "$work/readouts"
"${excite[@]}" fit-readout --core "$work/core" --data "$data/201025" --data "$data/210225" --images 0:600 --quiet "${readout_flags[@]}" --out "$work/readouts"
fitted=$(date +%s)
for s in 201025 210225; do
  "${excite[@]}" eval --model "$work/readouts" --data "$data/$s" --images 600:1200 --attention --json > "$work/eval-$s.json"
done
node -e '
const [row, flags, train, fit, a, b] = process.argv.slice(1);
const ev = (f) => { const e = JSON.parse(require("fs").readFileSync(f, "utf8")); return { median_r: +e.median_r.toFixed(4), attention: e.attention }; };
const line = { row, flags: JSON.parse(flags), train_seconds: +train, fit_seconds: +fit, cpu: require("os").cpus()[0].model, cores: require("os").cpus().length, "201025": ev(a), "210225": ev(b) };
require("fs").appendFileSync("models/demo/ablation.jsonl", JSON.stringify(line) + "\n");
console.log(JSON.stringify(line));
' "$row" "$(printf '%s\n' "${flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" $((trained - start)) $((fitted - trained)) "$work/eval-201025.json" "$work/eval-210225.json"
