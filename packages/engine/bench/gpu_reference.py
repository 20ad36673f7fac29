"""The PyTorch side of `npm run bench:gpu` (bench/gpu.ts): the same operations as excite, on the
same card (CUDA) or CPU, in the same call.

One case is one prior with its encoder, written by gpu.ts into a folder:
  case.json            the UNet config (excite's UNetConfig names), the respaced schedule (every
                       per-step coefficient, computed by excite: both sides sample the same process),
                       the variance kind, K, lambda, c, GA's steps, the batches, repeats and the
                       time budget of one whole-MEI measurement
  unet.safetensors     the UNet's state_dict (guided-diffusion's names), float32; case.json's "weights"
  encoder/             the encoder's weights in torch_encoder.py's format
  probe_x.bin, probe_image.bin
                       fixed inputs: excite compares our outputs on them with its own, so both
                       sides time the same function

The UNet is openai/guided-diffusion's UNetModel (the paper's code, its attention blocks always
recomputed in backward as there); the encoder is torch_encoder.Encoder. EGG, EGG-x0 and GA are
written here from the paper (docs/synthesis.md), batched as excite batches them.

usage: gpu_reference.py GUIDED_DIFFUSION_DIR CASE_DIR OUT_DIR [--device cuda|cpu] [--precisions fp32,fp16] [--threads N]
Prints one JSON document on stdout; writes probe_eps.bin (and probe_v.bin) and probe_rates.bin to OUT_DIR.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from adm_reference import build  # noqa: E402
from torch_encoder import Encoder, load as load_encoder  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            dtype = {"F32": "<f4", "F16": "<f2"}[info["dtype"]]
            start, end = info["data_offsets"]
            f.seek(base + start)
            out[name] = torch.from_numpy(np.frombuffer(f.read(end - start), dtype=dtype).astype(np.float32).reshape(info["shape"]))
        return out


class Clock:
    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def ms(self, fn, repeats):
        """Median milliseconds of fn over `repeats` runs after one warm-up."""
        fn()
        self.sync()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            self.sync()
            times.append((time.perf_counter() - t) * 1000)
        return float(np.median(times))

    def seconds(self, fn):
        self.sync()
        t = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - t


class Pipeline:
    """The case's UNet, encoder and schedule on one device, with EGG (through the UNet or x0 only) and GA."""

    def __init__(self, case, unet, encoder, device):
        self.case, self.unet, self.encoder, self.device = case, unet, encoder, device
        c = case["unet"]
        self.C, self.S, self.learn_sigma = c["inChannels"], c["imageSize"], c["learnSigma"]
        cfg = case["encoder_config"]
        self.enc_size, self.neurons = cfg["size"], cfg["neurons"]
        s = case["schedule"]
        as_t = lambda key: torch.tensor(s[key], dtype=torch.float64)  # noqa: E731
        self.timesteps = s["timesteps"]
        abar = as_t("alphasCumprod")
        self.sqrt_recip = torch.sqrt(1 / abar).tolist()
        self.sqrt_recipm1 = torch.sqrt(1 / abar - 1).tolist()
        self.c1, self.c2 = s["posteriorMeanCoef1"], s["posteriorMeanCoef2"]
        self.log_beta = torch.log(as_t("betas")).tolist()
        self.log_post = s["posteriorLogVarianceClipped"]
        self.post_var = s["posteriorVariance"]
        self.variance = case["variance"]

    def eps_v(self, x, k):
        t = torch.full((x.shape[0],), float(self.timesteps[k]), device=self.device)
        out = self.unet(x, t)
        return out[:, : self.C], (out[:, self.C :] if self.learn_sigma else None)

    def energy(self, x0, neuron, norm):
        """E = -r_u(D(x0)): grayscale (mean of RGB), bilinear resize (align_corners=False, no antialias), L2 norm c."""
        y = x0.mean(1, keepdim=True) if x0.shape[1] == 3 else x0
        if y.shape[-1] != self.enc_size:
            y = F.interpolate(y, size=(self.enc_size, self.enc_size), mode="bilinear", align_corners=False, antialias=False)
        y = y * (norm / y.flatten(1).norm(dim=1)).view(-1, 1, 1, 1)
        rates = self.encoder(y)
        return -rates[torch.arange(rates.shape[0]), neuron]

    def log_variance(self, k, v, like):
        if self.variance == "learned-range":
            f = (v + 1) / 2
            return f * self.log_beta[k] + (1 - f) * self.log_post[k]
        value = self.log_post[k] if self.variance == "fixed-small" else math.log(self.post_var[1] if k == 0 else math.exp(self.log_beta[k]))
        return torch.full_like(like, value)

    def egg_step(self, x, k, neuron, through_unet=True):
        """One EGG step from x_t: the next x and this step's x0."""
        case = self.case
        if through_unet:
            xr = x.detach().requires_grad_(True)
            eps, v = self.eps_v(xr, k)
            x0 = self.sqrt_recip[k] * xr - self.sqrt_recipm1[k] * eps
            (g,) = torch.autograd.grad(self.energy(x0.float(), neuron, case["norm"]).sum(), xr)
        else:
            with torch.no_grad():
                eps, v = self.eps_v(x, k)
                x0 = self.sqrt_recip[k] * x - self.sqrt_recipm1[k] * eps
            x0r = x0.detach().float().requires_grad_(True)
            (g,) = torch.autograd.grad(self.energy(x0r, neuron, case["norm"]).sum(), x0r)
        with torch.no_grad():
            x0, eps = x0.detach().float(), eps.detach().float()
            mean = self.c1[k] * x0 + self.c2[k] * x
            if k > 0:
                logvar = self.log_variance(k, v.detach().float() if v is not None else None, x)
                mean = mean + torch.exp(0.5 * logvar) * torch.randn_like(x)
            g = g / (g.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + 1e-6)
            return mean - case["scale"] * g, x0

    def egg(self, batch, through_unet=True):
        x = torch.randn(batch, self.C, self.S, self.S, device=self.device)
        neuron = torch.arange(batch, device=self.device) % self.neurons
        x0 = None
        for k in reversed(range(len(self.timesteps))):
            x, x0 = self.egg_step(x, k, neuron, through_unet)
        return x0

    def ga(self, batch, steps):
        """Spec 2: AdamW(lr 10, wd 0.01) on -r_u, gradient blurred (Gaussian sigma 1, 9 taps, reflect), x rescaled to norm c."""
        size = self.enc_size
        x = torch.randn(batch, 1, size, size, device=self.device).requires_grad_(True)
        neuron = torch.arange(batch, device=self.device) % self.neurons
        taps = torch.exp(-0.5 * torch.arange(-4, 5, dtype=torch.float32) ** 2)
        taps = (taps / taps.sum()).to(self.device)
        optimizer = torch.optim.AdamW([x], lr=10, weight_decay=0.01)
        norm = self.case["norm"]
        for _ in range(steps):
            optimizer.zero_grad()
            loss = -self.encoder(x)[torch.arange(batch), neuron].sum()
            loss.backward()
            with torch.no_grad():
                g = F.pad(x.grad, (4, 4, 4, 4), mode="reflect")
                g = F.conv2d(g, taps.view(1, 1, 1, 9))
                x.grad = F.conv2d(g, taps.view(1, 1, 9, 1))
            optimizer.step()
            with torch.no_grad():
                x.mul_((norm / x.flatten(1).norm(dim=1)).view(-1, 1, 1, 1))
        return x.detach()


def attempt(r, name, fn, log):
    """Runs one measurement; a failure (out of memory, say) is recorded in r["errors"] and the rest go on."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report and continue
        r.setdefault("errors", {})[name] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        log(f"torch {name} failed: {r['errors'][name]}")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def measure(pipe, clock, case, precision, log):
    """Every operation at every batch: {"b1": {op: value}, ...}; whole MEIs over budget are projected from the step."""
    out, K, repeats, budget = {}, case["steps"], case["repeats"], case["budget_s"]
    gen = torch.Generator(device=pipe.device).manual_seed(0)
    for batch in case["batches"]:
        r, projected = {}, []
        x = torch.randn(batch, pipe.C, pipe.S, pipe.S, device=pipe.device, generator=gen)
        seed = torch.randn(batch, pipe.C, pipe.S, pipe.S, device=pipe.device, generator=gen)
        neuron = torch.arange(batch, device=pipe.device) % pipe.neurons
        k_mid = K // 2

        def forward():
            with torch.no_grad():
                pipe.eps_v(x, k_mid)

        def gradient():
            xr = x.clone().requires_grad_(True)
            eps, _ = pipe.eps_v(xr, k_mid)
            torch.autograd.grad((eps.float() * seed).sum(), xr)

        ops = set(case["ops"])

        def step_and_mei(name, step, whole, steps):
            r[f"{name}_step_ms"] = clock.ms(step, repeats)
            estimate = r[f"{name}_step_ms"] * steps / 1000
            if estimate <= budget:
                r[f"{name}_mei_s"] = clock.seconds(whole) / batch
            else:
                r[f"{name}_mei_s"] = estimate / batch
                projected.append(f"{name}_mei_s")

        if "forward" in ops:
            attempt(r, "unet_forward", lambda: r.__setitem__("unet_forward_ms", clock.ms(forward, repeats)), log)
        if "gradient" in ops:
            attempt(r, "unet_gradient", lambda: r.__setitem__("unet_gradient_ms", clock.ms(gradient, repeats)), log)
        for name, through in (("egg", True), ("egg_x0", False)):
            if name.replace("_", "-") in ops:
                attempt(r, name, lambda: step_and_mei(name, lambda: pipe.egg_step(x, k_mid, neuron, through), lambda: pipe.egg(batch, through), K), log)
        if precision == "fp32" and "ga" in ops:  # GA has no UNet: the same at both precisions of the prior
            attempt(r, "ga", lambda: step_and_mei("ga", lambda: pipe.ga(batch, 1), lambda: pipe.ga(batch, case["ga_steps"]), case["ga_steps"]), log)
        r["projected"] = projected
        out[f"b{batch}"] = r
        log(f"torch {precision} {case['name']} b{batch}: " + ", ".join(f"{k} {v:.4g}" for k, v in r.items() if isinstance(v, float)))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gd_dir")
    parser.add_argument("case_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precisions", default="fp32")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    sys.path.insert(0, args.gd_dir)
    import guided_diffusion.unet as gd_unet
    from guided_diffusion.nn import GroupNorm32

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as onnxruntime computes it
        torch.backends.cudnn.allow_tf32 = False
    with open(os.path.join(args.case_dir, "case.json")) as f:
        case = json.load(f)
    clock = Clock(device)
    setup_start = time.perf_counter()
    unet = build(gd_unet, GroupNorm32, case["unet"])
    unet.load_state_dict(read_safetensors(case["weights"]))
    unet.eval().to(device)
    manifest, weights = load_encoder(os.path.join(args.case_dir, "encoder"))
    encoder = Encoder(manifest["config"], {k: v.to(device) for k, v in weights.items()}).eval()
    case["encoder_config"] = manifest["config"]
    # the weights keep requires_grad as in the paper's code: guided-diffusion's attention blocks
    # always run through its CheckpointFunction, whose backward differentiates their parameters too
    pipe = Pipeline(case, unet, encoder, device)
    setup_s = time.perf_counter() - setup_start

    # the probe: eps (v) and rates on fixed inputs, float32, for excite to compare with its own
    probe = case["probe"]
    px = torch.from_numpy(np.fromfile(os.path.join(args.case_dir, "probe_x.bin"), dtype=np.float32).reshape(probe["x_shape"])).to(device)
    pi = torch.from_numpy(np.fromfile(os.path.join(args.case_dir, "probe_image.bin"), dtype=np.float32).reshape(probe["image_shape"])).to(device)
    with torch.no_grad():
        out = unet(px, torch.full((px.shape[0],), float(probe["t"]), device=device))
        out[:, : pipe.C].cpu().numpy().astype("<f4").tofile(os.path.join(args.out_dir, "probe_eps.bin"))
        if pipe.learn_sigma:
            out[:, pipe.C :].cpu().numpy().astype("<f4").tofile(os.path.join(args.out_dir, "probe_v.bin"))
        encoder(pi).cpu().numpy().astype("<f4").tofile(os.path.join(args.out_dir, "probe_rates.bin"))

    results = {}
    for precision in args.precisions.split(","):
        if precision == "fp16":
            if device.type != "cuda":
                log("fp16 skipped: PyTorch's fp16 convolutions need CUDA")
                continue
            unet.convert_to_fp16()  # guided-diffusion's own: the paper's use_fp16 (convolutions in fp16, norms in fp32)
            unet.dtype = torch.float16
        elif precision != "fp32":
            raise SystemExit(f"unknown precision {precision}")
        results[precision] = measure(pipe, clock, case, precision, log)
    print(json.dumps({
        "torch": torch.__version__,
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "setup_s": setup_s,
        "results": results,
    }))


if __name__ == "__main__":
    main()
