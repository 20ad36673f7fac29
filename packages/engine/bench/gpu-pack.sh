#!/bin/bash
# `npm run bench:gpu:pack`: fills .gpu/ (git-ignored) for one run of bench:gpu on the GPU machine,
# which has CUDA and PyTorch but no node and no registry:
#   - node, onnxruntime-node and the Vulkan loader, by the workplace's device kit
#     ($EXCITE_DEVICE_KIT: a folder with pack.sh and setup.sh; docs/gpu.md)
#   - bench/gpu.ts bundled with esbuild into .gpu/bench-gpu.cjs (onnxruntime-node stays external, and
#     sharp, which the bench never loads)
#   - the PyTorch side: gpu_reference.py, adm_reference.py, torch_encoder.py and guided-diffusion's
#     guided_diffusion package (from .cache, never committed)
#   - run.sh: what to run there (see its header)
# Then: device tool `run` with carry [".gpu"] and the command `source .gpu/setup.sh && bash .gpu/run.sh`.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
kit=${EXCITE_DEVICE_KIT:-$root/../shared/device}
if [ ! -f "$kit/pack.sh" ]; then
  echo "bench:gpu:pack: $kit/pack.sh not found: set EXCITE_DEVICE_KIT to the device kit (node, onnxruntime-node and the Vulkan loader for the GPU machine)" >&2
  exit 1
fi
bash "$kit/pack.sh"
bench=packages/engine/bench
npx esbuild "$bench/gpu.ts" --bundle --platform=node --format=cjs --target=node20 \
  --external:onnxruntime-node --external:sharp --define:import.meta.url=importMetaUrl --inject:"$bench/import-meta-url.mjs" \
  --outfile=.gpu/bench-gpu.cjs --log-level=warning
cp "$bench/gpu_reference.py" "$bench/adm_reference.py" "$bench/torch_encoder.py" "$bench/gpu-run.sh" .gpu/
mv .gpu/gpu-run.sh .gpu/run.sh
gd=$(npx tsx -e "import('./$bench/guided-diffusion.ts').then((m) => console.log(m.guidedDiffusionSource({ allowClone: true })))")
rm -rf .gpu/guided-diffusion
mkdir -p .gpu/guided-diffusion
cp -r "$gd/guided_diffusion" .gpu/guided-diffusion/
find .gpu/guided-diffusion -name __pycache__ -prune -exec rm -rf {} +
du -sh .gpu
echo 'bench:gpu:pack: done. Device tool: run with carry [".gpu"] and the command: source .gpu/setup.sh && bash .gpu/run.sh'
