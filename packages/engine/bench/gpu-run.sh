#!/bin/bash
# bench:gpu on the GPU machine, from the repository root after `source .gpu/setup.sh` (gpu-pack.sh
# made .gpu/): excite on WebGPU against PyTorch CUDA (fp32 and guided-diffusion's fp16) on the same
# card (both at fp32 and at fp16), the log and JSON in $OUT. Arguments go to the bench first and
# win over the defaults below (e.g. --priors demo, --budget 30).
# BENCH_SECONDS (default 540) bounds the whole run: results are written after each prior.
set -uo pipefail
out=${OUT:-/tmp/bench-gpu}
mkdir -p "$out"
export EXCITE_ROOT=$PWD EXCITE_GUIDED_DIFFUSION=$PWD/.gpu/guided-diffusion EXCITE_TORCH_PYTHON=${EXCITE_TORCH_PYTHON:-$(command -v python3)}
"$EXCITE_TORCH_PYTHON" -c "import torch; print('PyTorch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')" 2>&1 | tee "$out/torch.txt"
vulkaninfo --summary > "$out/vulkan.txt" 2>&1 || true
# the bench takes an option's first occurrence: arguments given here win over these defaults
timeout "${BENCH_SECONDS:-540}" node .gpu/bench-gpu.cjs "$@" --device webgpu --precisions fp32,fp16 --torch-device cuda --torch-precisions fp32,fp16 --out "$out/bench-gpu.json" 2>&1 | tee "$out/bench-gpu.txt"
echo "exit ${PIPESTATUS[0]}"
