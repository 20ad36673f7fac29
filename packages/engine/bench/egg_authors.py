"""The authors' EGG sampler as the baseline of `npm run bench:egg-speed` (bench/egg-speed.ts).

Runs sinzlab/energy-guided-diffusion's own code, unmodified: its copy of guided-diffusion's UNetModel
and its SpacedDiffusion.p_sample_loop_progressive with an energy function (the EGG loop of the
paper's code), on the CPU, one image at a time as that code samples. What this driver adds:

- the prior: the UNet built from excite's UNetConfig (as adm_reference.build does for
  guided-diffusion: its GroupNorm32 count swapped for the config's), loaded with the same weights;
- the energy: E = -r_u(x0 c / ||x0||) for one neuron u of an encoder (a linear map or the
  paper-scale encoder of torch_encoder.py), returned as {"train": E} as that loop expects;
- the noise: x_T is passed in, and the module's torch is wrapped so that its randn_like hands out
  excite's per-step noise in order (the loop draws one per step, the last one masked out), so both
  sides compute the same trajectory.

Its model keeps requires_grad on its weights, as its EGG class sets them.

usage: egg_authors.py AUTHORS_DIR   then one JSON command per line on stdin:
  {"op": "load", "case": DIR}              DIR/case.json: unet, weights, steps, scale, norm,
                                            respacing, encoder {kind: linear|paper, dir}, neuron;
                                            DIR/noise.bin: x_T then K noises (float32)
  {"op": "run", "threads": N, "trace": DIR?} one whole EGG MEI; replies {mei_s, step_ms}; with
                                            trace, writes each step's pred_xstart to DIR/x0.bin
answers one JSON line per command on stdout; the first line says the torch version.
"""

import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from adm_reference import build  # noqa: E402
from gpu_reference import read_safetensors  # noqa: E402
from torch_encoder import Encoder, load as load_encoder  # noqa: E402


class NoiseFeed:
    """Stands in for the sampler module's `th`: randn_like returns the next prepared noise."""

    def __init__(self, module):
        self._module = module
        self.queue = []

    def __getattr__(self, name):
        return getattr(self._module, name)

    def randn_like(self, x, *args, **kwargs):
        if not self.queue:
            raise RuntimeError("the sampler drew more noise than prepared")
        z = self.queue.pop(0)
        assert tuple(z.shape) == tuple(x.shape), (z.shape, x.shape)
        return z.to(x.dtype)


class Session:
    def __init__(self, authors_dir):
        sys.path.insert(0, authors_dir)
        import egg.guided_diffusion.gaussian_diffusion as gd_module
        import egg.guided_diffusion.unet as unet_module
        from egg.guided_diffusion.nn import GroupNorm32
        from egg.guided_diffusion.script_util import create_gaussian_diffusion

        self.unet_module, self.GroupNorm32 = unet_module, GroupNorm32
        self.create_gaussian_diffusion = create_gaussian_diffusion
        self.feed = NoiseFeed(torch)
        gd_module.th = self.feed
        self.case = None

    def load(self, case_dir):
        with open(os.path.join(case_dir, "case.json")) as f:
            case = json.load(f)
        c = case["unet"]
        model = build(self.unet_module, self.GroupNorm32, c)
        model.load_state_dict(read_safetensors(case["weights"]))
        model.requires_grad_(True).eval()
        variance = case["variance"]
        diffusion = self.create_gaussian_diffusion(
            steps=case["train_steps"],
            learn_sigma=c["learnSigma"],
            sigma_small=variance == "fixed-small",
            noise_schedule="linear",
            rescale_timesteps=True,
            timestep_respacing=str(case["steps"]),
        )
        C, S = c["inChannels"], c["imageSize"]
        noise = torch.from_numpy(np.fromfile(os.path.join(case_dir, "noise.bin"), dtype=np.float32).reshape(-1, 1, C, S, S))
        enc = case["encoder"]
        if enc["kind"] == "linear":
            w = torch.from_numpy(np.fromfile(os.path.join(case_dir, enc["file"]), dtype=np.float32).reshape(C * S * S, -1))
            rates_of = lambda y: y.flatten(1) @ w  # noqa: E731
        else:
            manifest, weights = load_encoder(os.path.join(case_dir, enc["dir"]))
            rates_of = Encoder(manifest["config"], weights).eval()
        neuron, norm = case["neuron"], case["norm"]

        def energy_fn(x0):
            y = x0 * (norm / x0.flatten(1).norm(dim=1)).view(-1, 1, 1, 1)
            return {"train": -rates_of(y)[:, neuron].sum()}

        self.case = dict(model=model, diffusion=diffusion, noise=noise, energy_fn=energy_fn, scale=case["scale"], shape=(1, C, S, S))
        return {"parameters": int(sum(p.numel() for p in model.parameters())), "steps": diffusion.num_timesteps}

    def run(self, threads, trace=None):
        c = self.case
        torch.set_num_threads(threads)
        xT, steps = c["noise"][0], c["noise"][1:]
        # one noise per step: the loop masks the last step's (t = 0)
        self.feed.queue = [z for z in steps] + [torch.zeros_like(xT)]
        loop = c["diffusion"].p_sample_loop_progressive(
            c["model"], c["shape"], noise=xT.clone(), clip_denoised=False, model_kwargs={}, progress=False,
            energy_fn=c["energy_fn"], energy_scale=c["scale"], normalize_grad=True,
        )
        stamps, x0s, samples = [], [], []
        start = time.perf_counter()
        for out in loop:
            stamps.append(time.perf_counter())
            if trace:
                x0s.append(out["pred_xstart"].detach().numpy().copy())
                samples.append(out["sample"].detach().numpy().copy())
        total = time.perf_counter() - start
        intervals = np.diff([start] + stamps)
        if trace:
            np.concatenate(x0s).astype("<f4").tofile(os.path.join(trace, "x0.bin"))
            np.concatenate(samples).astype("<f4").tofile(os.path.join(trace, "sample.bin"))
        return {"mei_s": total, "step_ms": float(np.median(intervals) * 1000), "steps": len(stamps), "threads": torch.get_num_threads()}


def main():
    session = Session(sys.argv[1])
    print(json.dumps({"torch": torch.__version__, "numpy": np.__version__, "max_threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["op"] == "load":
                reply = session.load(cmd["case"])
            elif cmd["op"] == "run":
                reply = session.run(cmd["threads"], cmd.get("trace"))
            else:
                raise ValueError(f"unknown op {cmd['op']}")
        except Exception as e:  # noqa: BLE001
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
