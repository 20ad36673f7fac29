#!/usr/bin/python3
"""Regenerate packages/engine/fixtures/onnx: four small PyTorch encoder families exported with
export_torch, with float64 reference outputs and input gradients.

    /usr/bin/python3 python/make_onnx_fixtures.py

Weights are random with fixed seeds; BatchNorm running statistics and affine parameters are set
to non-trivial random values so eval-mode BatchNorm is not an identity. Per family folder:
model.json and the graph(s) (from export_torch), and
  input.npy   float32 [2, C, H, W]  graph-input values (already standardized; randn)
  output.npy  float32 [2, neurons]  rates: the model's output after the declared output
                                    nonlinearity, computed in float64, then cast
  w.npy       float32 [neurons]     fixed random weights
  grad.npy    float32 [2, C, H, W]  d/d input of sum over batch and neurons of rates * w,
                                    float64 autograd, then cast
For a dataKey model the sessions' outputs are placed in `neurons` order (concatenated).
Then each graph is checked with onnx.checker (and for a dynamic batch axis), and the op types per
family are printed and written into the fixtures README between its ops markers.
"""

import copy
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_torch import export_model  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, 'packages', 'engine', 'fixtures', 'onnx')
OPSET = 17


def randomize_bn(module, gen):
    """Non-trivial eval-mode BatchNorm: random running stats and affine parameters."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)


# a. neuralpredictors-like: stacked conv core + factorized readout per session (einsum)

class StackedCore(nn.Module):
    def __init__(self, channels=1, hidden=8, layers=3):
        super().__init__()
        mods = []
        for i in range(layers):
            k = 5 if i == 0 else 3
            mods += [nn.Conv2d(channels if i == 0 else hidden, hidden, k, padding=k // 2, bias=False),
                     nn.BatchNorm2d(hidden), nn.ELU()]
        self.features = nn.Sequential(*mods)

    def forward(self, x):
        return self.features(x)


class FactorizedReadout(nn.Module):
    def __init__(self, channels, height, width, neurons, gen):
        super().__init__()
        self.mask = nn.Parameter(torch.randn(neurons, height, width, generator=gen) / (height * width) ** 0.5)
        self.features = nn.Parameter(torch.randn(neurons, channels, generator=gen) / channels ** 0.5)
        self.bias = nn.Parameter(torch.randn(neurons, generator=gen) * 0.1)

    def forward(self, x):
        pooled = torch.einsum('bchw,nhw->bnc', x, self.mask)
        return (pooled * self.features).sum(-1) + self.bias


class NeuralPredictorsLike(nn.Module):
    def __init__(self, gen, sessions):
        super().__init__()
        self.core = StackedCore()
        self.readout = nn.ModuleDict({s: FactorizedReadout(8, 40, 40, n, gen) for s, n in sessions.items()})

    def forward(self, x, data_key=None):
        return self.readout[data_key](self.core(x))


# b. ResNet-18-like task-driven core + linear readout

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(y + skip)


class ResNetLike(nn.Module):
    def __init__(self, neurons):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.readout = nn.Linear(32, neurons)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.readout(self.flatten(self.avgpool(x)))


# c. small vision transformer

class Attention(nn.Module):
    def __init__(self, dim, heads, use_einsum):
        super().__init__()
        self.heads, self.head_dim, self.use_einsum = heads, dim // heads, use_einsum
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def split(self, t):
        b, n, _ = t.shape
        return t.reshape(b, n, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scale = self.head_dim ** -0.5
        if self.use_einsum:
            att = torch.einsum('bhid,bhjd->bhij', q, k) * scale
        else:
            att = torch.matmul(q, k.transpose(-2, -1)) * scale
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, n, c)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, dim, heads, hidden, use_einsum):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, use_einsum)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTLike(nn.Module):
    def __init__(self, gen, neurons, dim=32, patch=4, size=32):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, patch, patch)
        tokens = (size // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, dim, generator=gen) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim, generator=gen) * 0.5)
        self.blocks = nn.Sequential(Block(dim, 4, 64, False), Block(dim, 4, 64, True))
        self.norm = nn.LayerNorm(dim)
        self.readout = nn.Linear(dim, neurons)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.norm(self.blocks(x))
        return self.readout(x[:, 0])


# d. multi-branch with a conv recurrent cell unrolled T times

class ConvGRUCell(nn.Module):
    def __init__(self, cin, hidden):
        super().__init__()
        self.gates = nn.Conv2d(cin + hidden, 2 * hidden, 3, padding=1)
        self.cand = nn.Conv2d(cin + hidden, hidden, 3, padding=1)

    def forward(self, x, h):
        z, r = torch.sigmoid(self.gates(torch.cat([x, h], 1))).chunk(2, 1)
        n = torch.tanh(self.cand(torch.cat([x, r * h], 1)))
        return (1 - z) * h + z * n


class RecurrentLike(nn.Module):
    def __init__(self, neurons, steps=3):
        super().__init__()
        self.steps = steps
        self.stem = nn.Conv2d(1, 6, 3, 2, 1)       # 36 -> 18
        self.cell = ConvGRUCell(6, 6)
        self.fine = nn.Conv2d(1, 4, 3, 1, 1)       # 36, resized to 18 (bilinear)
        self.coarse = nn.Conv2d(1, 4, 3, 4, 1)     # 9, upsampled to 18 (nearest)
        self.act = nn.LeakyReLU(0.1)
        self.pool = nn.AvgPool2d(2)
        self.readout = nn.Linear(14 * 9 * 9, neurons)

    def forward(self, x):
        u = torch.tanh(self.stem(x))
        h = torch.zeros_like(u)
        for _ in range(self.steps):
            h = self.cell(u, h)
        fine = F.interpolate(self.act(self.fine(x)), size=(18, 18), mode='bilinear', align_corners=False)
        coarse = F.interpolate(self.act(self.coarse(x)), scale_factor=2, mode='nearest')
        y = torch.clamp(torch.cat([h, fine, coarse], 1), -2.0, 2.0)
        y = torch.where(y > 0, y, 0.5 * y)
        return self.readout(self.pool(y).flatten(1))


def rates(y, output):
    if output == 'identity':
        return y
    if output == 'elu1':
        return F.elu(y) + 1
    if output == 'softplus':
        return torch.logaddexp(y, torch.zeros_like(y))
    if output == 'exp':
        return torch.exp(y)
    raise ValueError(output)


def references(model, meta, x, w):
    """float64 rates and d/dx sum(rates * w), sessions placed in `neurons` order."""
    m = copy.deepcopy(model).double().eval()
    xd = torch.from_numpy(x).double().requires_grad_(True)
    if meta['dataKey'] is None:
        y = m(xd)
    else:
        cols = {}
        for s in meta['graphs']:
            ys = m(xd, **{meta['dataKey']: s})
            idx = [i for i, n in enumerate(meta['neurons']) if n.rsplit(':', 1)[0] == s]
            for j, i in enumerate(idx):
                cols[i] = ys[:, j]
        y = torch.stack([cols[i] for i in range(len(meta['neurons']))], 1)
    r = rates(y, meta['output'])
    (r * torch.from_numpy(w).double()).sum().backward()
    return r.detach().numpy().astype(np.float32), xd.grad.numpy().astype(np.float32)


def family(key, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # nn default initializations
    if key == 'neuralpredictors':
        sessions = {'21067-10-18': 5, '22846-10-16': 3}
        model = NeuralPredictorsLike(gen, sessions)
        spec = dict(name='fixture-neuralpredictors',
                    architecture='stacked conv core (Conv+BatchNorm+ELU x3) + factorized readout per session (einsum)',
                    input=dict(channels=1, height=40, width=40, mean=[123.0], std=[58.0]),
                    neurons=[f'{s}:{i}' for s, n in sessions.items() for i in range(n)],
                    output='elu1', data_key='data_key', sessions=list(sessions))
    elif key == 'resnet':
        model = ResNetLike(10)
        spec = dict(name='fixture-resnet', architecture='ResNet-18-like core (basic blocks, stride-2 downsample) + linear readout',
                    input=dict(channels=3, height=64, width=64, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
                    neurons=[f'resnet:{i}' for i in range(10)], output='softplus')
    elif key == 'vit':
        model = ViTLike(gen, 7)
        with torch.no_grad():
            model.readout.weight.mul_(0.3)
        spec = dict(name='fixture-vit', architecture='ViT (4x4 patches, dim 32, 4 heads, 2 blocks) + linear readout of the cls token',
                    input=dict(channels=1, height=32, width=32, mean=[128.0], std=[64.0]),
                    neurons=[f'vit:{i}' for i in range(7)], output='exp')
    elif key == 'recurrent':
        model = RecurrentLike(6)
        spec = dict(name='fixture-recurrent',
                    architecture='conv GRU cell unrolled 3 steps + two resized LeakyReLU conv branches, concatenated, clamp/where, linear readout',
                    input=dict(channels=1, height=36, width=36, mean=[110.0], std=[50.0]),
                    neurons=[f'rec:{i}' for i in range(6)], output='identity')
    else:
        raise ValueError(key)
    randomize_bn(model, gen)
    return model.eval(), spec, gen


def main():
    import onnx
    inventory = {}
    for seed, key in enumerate(['neuralpredictors', 'resnet', 'vit', 'recurrent'], start=1):
        model, spec, gen = family(key, seed)
        out = os.path.join(OUT, key)
        if os.path.isdir(out):
            for f in os.listdir(out):
                os.unlink(os.path.join(out, f))
        meta = export_model(model, out, opset=OPSET, **spec)
        inp = spec['input']
        x = torch.randn(2, inp['channels'], inp['height'], inp['width'], generator=gen).numpy().astype(np.float32)
        w = torch.randn(len(spec['neurons']), generator=gen).numpy().astype(np.float32)
        r, g = references(model, meta, x, w)
        for name, a in [('input', x), ('output', r), ('w', w), ('grad', g)]:
            np.save(os.path.join(out, f'{name}.npy'), a)
        files = [meta['graph']] if meta['dataKey'] is None else list(meta['graphs'].values())
        ops = set()
        for f in files:
            m = onnx.load(os.path.join(out, f))
            onnx.checker.check_model(m, full_check=True)
            batch = [d.dim_param for d in m.graph.input[0].type.tensor_type.shape.dim][:1]
            assert batch == ['batch'], (key, f, batch)
            ops |= {n.op_type for n in m.graph.node}
        inventory[key] = sorted(ops)
        sizes = ', '.join(f'{f} {os.path.getsize(os.path.join(out, f)) // 1024} KB' for f in files)
        print(f'{key}: {sizes}; rates in [{r.min():.3g}, {r.max():.3g}]; ops {inventory[key]}')
    readme = os.path.join(OUT, 'README.md')
    with open(readme) as f:
        text = f.read()
    begin, end = '<!-- ops:begin -->', '<!-- ops:end -->'
    if begin in text and end in text:
        table = '\n'.join(f'- `{k}`: {", ".join(v)}' for k, v in inventory.items())
        head, rest = text.split(begin, 1)
        text = f'{head}{begin}\n{table}\n{end}{rest.split(end, 1)[1]}'
        with open(readme, 'w') as f:
            f.write(text)
        print(f'op inventory written to {os.path.relpath(readme, ROOT)}')


if __name__ == '__main__':
    main()
