"""PyTorch baseline for `npm run bench:engine`: the same paper-scale encoder (data-driven core +
attention readout) with the same weights, timed on the CPU in the same run as excite's ONNX graphs.

Usage: python3 torch_encoder.py WEIGHTS_DIR THREADS REPEATS
WEIGHTS_DIR holds manifest.json ({name: shape}, plus "config") and one raw float32 file per weight,
written by bench/engine.ts. Prints one JSON object on stdout.
"""
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(dirname):
    manifest = json.load(open(os.path.join(dirname, "manifest.json")))
    weights = {
        name: torch.from_numpy(np.fromfile(os.path.join(dirname, f"{i}.bin"), dtype=np.float32).reshape(shape))
        for i, (name, shape) in enumerate(manifest["weights"])
    }
    return manifest, weights


def position_code(C, H, W):
    half = C // 2
    code = np.zeros((C, H, W))
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    for c in range(C):
        local = c % half
        freq = 10000 ** (-(2 * (local // 2)) / half)
        trig = np.sin if local % 2 == 0 else np.cos
        code[c] = trig((rows if c < half else cols) * freq)
    return torch.tensor(code, dtype=torch.float32)


class Encoder(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg, self.w = cfg, w

    def norm_act(self, h, name):
        w = self.w
        h = F.batch_norm(h, w[f"{name}.bn.running_mean"], w[f"{name}.bn.running_var"], w[f"{name}.bn.weight"], w[f"{name}.bn.bias"], False, 0.0, self.cfg["batchNormEps"])
        return F.elu(h)

    def forward(self, x):
        w, cfg = self.w, self.cfg
        h = self.norm_act(F.conv2d(x, w["core.0.conv.weight"]), "core.0")
        pad = (cfg["hiddenKernel"] - 1) // 2
        for l in range(1, cfg["layers"]):
            n = f"core.{l}"
            h = F.conv2d(h, w[f"{n}.pointwise_in.weight"])
            h = F.conv2d(h, w[f"{n}.depthwise.weight"], padding=pad, groups=cfg["channels"])
            h = F.conv2d(h, w[f"{n}.pointwise_out.weight"])
            h = self.norm_act(h, n)
        N, C, H, W = h.shape
        if not hasattr(self, "code"):
            self.code = position_code(C, H, W).to(h.device, h.dtype)
        f = (h + self.code).flatten(2).transpose(1, 2)  # [N, S, C]
        kv = F.linear(f, w["readout.kv.weight"])  # [N, S, 2D]
        D = kv.shape[-1] // 2
        keys, values = kv[..., :D], kv[..., D:]
        logits = keys @ w["readout.query"].T / math.sqrt(C)  # [N, S, neurons]
        attention = torch.softmax(logits.transpose(1, 2), dim=-1)  # [N, neurons, S]
        attended = attention @ values  # [N, neurons, D]
        y = (attended * w["readout.weight"]).sum(-1) + w["readout.bias"]
        return F.elu(y) + 1


def timed(fn, repeats):
    fn()
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1000


def main():
    dirname, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    manifest, weights = load(dirname)
    cfg = manifest["config"]
    model = Encoder(cfg, weights).eval()
    probe = torch.from_numpy(np.fromfile(os.path.join(dirname, "probe.bin"), dtype=np.float32).reshape(manifest["probe"]))
    with torch.inference_mode():
        probe_rates = model(probe).numpy()
    # Debian's torch calls whatever libblas.so.3 the alternatives system selects: netlib's reference
    # BLAS by default (slow), OpenBLAS when libopenblas0-pthread is installed
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    out = {"torch": torch.__version__, "threads": threads, "blas": blas, "probe_rates": probe_rates.ravel().tolist()}
    for batch in manifest["batches"]:
        x = torch.randn(batch, 1, cfg["size"], cfg["size"])
        seed = torch.randn(batch, cfg["neurons"])

        def forward():
            with torch.inference_mode():
                model(x)

        def gradient():
            xi = x.clone().requires_grad_(True)
            (model(xi) * seed).sum().backward()
            return xi.grad

        n = repeats if batch == 1 else max(2, repeats // 4)
        out[f"forward_ms_b{batch}"] = timed(forward, n)
        out[f"gradient_ms_b{batch}"] = timed(gradient, n)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
