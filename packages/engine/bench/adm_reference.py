"""The original ADM code as the reference for excite's UNet (`npm run check:adm`, bench/adm-reference.ts).

Builds openai/guided-diffusion's UNetModel with the arguments in CONFIG.json (excite's UNetConfig
field names), gives it seeded random weights (PyTorch's default initialization, also for the
layers ADM zero-initializes, and GroupNorm scales and shifts drawn around 1 and 0, so that every
weight matters), and writes to OUT:

  weights.safetensors    the state_dict, float32, UNetModel's names: what loadAdmCheckpoint reads
  reference.safetensors  x, per timestep t: eps and v (the two halves of the output), and the
                         input-gradients d sum(P_eps * eps) / dx and d sum(P_v * v) / dx for fixed
                         random projections P_eps and P_v (torch autograd)

and prints a JSON summary on stdout. Needs only torch and numpy (Debian's python3-torch); the
safetensors format is written by hand (8-byte header length, JSON header, raw little-endian data).

usage: adm_reference.py GUIDED_DIFFUSION_DIR CONFIG.json OUT_DIR
CONFIG.json: {"unet": {UNetConfig}, "timesteps": [10, 500, 990], "batch": 2, "seed": 0}
"""

import json
import struct
import sys

import numpy as np
import torch


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, float32 numpy array) in file order."""
    header, offset, chunks = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def build(unet_module, group_norm_class, c):
    """guided-diffusion's UNetModel for an excite UNetConfig, from `unet_module` (guided_diffusion.unet,
    or the EGG authors' copy of it) with its GroupNorm32 class. That GroupNorm32 always has 32 groups;
    a config with another count (the demo prior's 8) gets the module's `normalization` swapped for
    one with that count, leaving the rest of the original code as it is."""
    if c["normGroups"] != 32:
        unet_module.normalization = lambda channels: group_norm_class(c["normGroups"], channels)
    return unet_module.UNetModel(
        image_size=c["imageSize"],
        in_channels=c["inChannels"],
        model_channels=c["modelChannels"],
        out_channels=c["inChannels"] * (2 if c["learnSigma"] else 1),
        num_res_blocks=c["numResBlocks"],
        # ADM's scripts turn attention resolutions (pixels) into downsampling factors
        attention_resolutions=tuple(c["imageSize"] // r for r in c["attentionResolutions"]),
        dropout=0.0,
        channel_mult=tuple(c["channelMult"]),
        conv_resample=c["convResample"],
        num_heads=c["numHeads"],
        num_head_channels=c["numHeadChannels"],
        num_heads_upsample=c["numHeadsUpsample"],
        use_scale_shift_norm=c["useScaleShiftNorm"],
        resblock_updown=c["resblockUpdown"],
        use_new_attention_order=c["useNewAttentionOrder"],
        use_fp16=False,
        use_checkpoint=False,
    )


def randomize(model):
    """Every weight non-trivial: default init for ADM's zero modules too; GroupNorm affine near identity."""
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)):
            m.reset_parameters()
        elif isinstance(m, torch.nn.GroupNorm):
            with torch.no_grad():
                m.weight.normal_(1.0, 0.1)
                m.bias.normal_(0.0, 0.1)


def main():
    gd_dir, config_file, out_dir = sys.argv[1:4]
    sys.path.insert(0, gd_dir)
    import guided_diffusion.unet as gd_unet
    from guided_diffusion.nn import GroupNorm32

    with open(config_file) as f:
        spec = json.load(f)
    c, timesteps, batch, seed = spec["unet"], spec["timesteps"], spec.get("batch", 2), spec.get("seed", 0)
    torch.manual_seed(seed)
    model = build(gd_unet, GroupNorm32, c)
    randomize(model)
    model.eval()
    state = model.state_dict()
    write_safetensors(
        f"{out_dir}/weights.safetensors",
        [(k, v.detach().cpu().numpy()) for k, v in state.items()],
        {"format": "pt", "source": "guided-diffusion UNetModel, seeded random weights"},
    )

    C, S = c["inChannels"], c["imageSize"]
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, C, S, S, generator=gen)
    p_eps = torch.randn(batch, C, S, S, generator=gen)
    p_v = torch.randn(batch, C, S, S, generator=gen)
    out = [("x", x.numpy()), ("eps_projection", p_eps.numpy())]
    if c["learnSigma"]:
        out.append(("v_projection", p_v.numpy()))

    def forward(t):
        xr = x.clone().requires_grad_(True)
        y = model(xr, torch.full((batch,), float(t)))
        return xr, y[:, :C], (y[:, C:] if c["learnSigma"] else None)

    # one backward per forward: AttentionBlock always runs through guided-diffusion's
    # CheckpointFunction, whose backward frees its saved inputs (no retain_graph)
    for t in timesteps:
        xr, eps, v = forward(t)
        (g_eps,) = torch.autograd.grad((eps * p_eps).sum(), xr)
        out += [(f"t{t}/eps", eps.detach().numpy()), (f"t{t}/x_grad_eps", g_eps.numpy())]
        if v is not None:
            out.append((f"t{t}/v", v.detach().numpy()))
            xr, _, v = forward(t)
            (g_v,) = torch.autograd.grad((v * p_v).sum(), xr)
            out.append((f"t{t}/x_grad_v", g_v.numpy()))
    write_safetensors(f"{out_dir}/reference.safetensors", out, {"timesteps": json.dumps(timesteps)})

    print(json.dumps({
        "torch": torch.__version__,
        "tensors": len(state),
        "parameters": int(sum(v.numel() for v in state.values())),
        "timesteps": timesteps,
        "batch": batch,
    }))


if __name__ == "__main__":
    main()
