# Sourced by train.sh and ablation.sh (from the repository root): the V4 data, the excite command
# line ($EXCITE_CLI to run another entry point), the eight sessions the demo cores train on as
# --data arguments, the teacher data folder, and the readout flags of the shipped attention models.
v4="${EXCITE_V4_DATA:-../shared/data/v4}"
data="$v4/sessions"
[ -d "$data" ] || { echo "no V4 sessions at $data: set EXCITE_V4_DATA" >&2; exit 1; }
read -r -a excite <<< "${EXCITE_CLI:-npx excite}"
train_sessions=(190925 190927 190928 190929 210224 210305 210322 210621)
data_args=()
for s in "${train_sessions[@]}"; do data_args+=(--data "$data/$s"); done
teacher=models/demo/.work/teacher-211022
# the attention models' test-session readouts: no L1 on the feature weights, a weak entropy penalty
attention_readout=(--readout-l1 0 --attention-entropy 0.002)
