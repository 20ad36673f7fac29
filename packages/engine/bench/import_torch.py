"""PyTorch baseline for `npm run bench:import` (bench/import.ts): the fixture encoders of
packages/engine/fixtures/onnx rebuilt in PyTorch exactly as they were exported (python/
make_onnx_fixtures.py's `family(key, seed)`, same seeds, eval mode, float32), timed on the CPU.
A long-lived process, so that import.ts can interleave its blocks of runs with excite's.

usage: import_torch.py   then one JSON command per line on stdin, one JSON line answered on stdout
(the first line, unasked: {"torch", "numpy", "blas"}):
  {"op": "load", "family": KEY, "probe_dir": DIR, "probe_batch": B}
      rebuilds the model; answers {"neurons", "rebuilt_rel_err"}: its rates on the fixture's
      input.npy against the fixture's output.npy (the rebuild is the exported model). Writes the
      correctness probe to DIR/KEY/: x.npy [B, C, H, W] (randn), w.npy [neurons], and PyTorch's
      float32 rates.npy and grad.npy (the timed model) for d/dx sum(rates * w)
  {"op": "time", "family": KEY, "mode": "fwd"|"grad", "batch": N, "threads": T, "repeats": R, "warmups": W}
      torch.set_num_threads(T), W untimed runs, then answers {"ms": [R wall times]} of
        fwd   rates = model(x) (then the declared output nonlinearity), under torch.no_grad()
        grad  the same forward with x.requires_grad, then rates.backward(seed): d/dx sum(rates * w)
A failed command answers {"error"}. A model with a data key (one readout per session) runs once per
session and its outputs are put in the neurons' order, as make_onnx_fixtures.references() combines
them.
"""

import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'python'))
from make_onnx_fixtures import family, rates  # noqa: E402

FIXTURES = os.path.join(ROOT, 'packages', 'engine', 'fixtures', 'onnx')
# make_onnx_fixtures.main() numbers the families from 1 in this order
SEEDS = {key: i + 1 for i, key in enumerate(['neuralpredictors', 'resnet', 'vit', 'recurrent'])}


def encoder(model, spec):
    """x -> rates [batch, neurons] in the order of spec['neurons']."""
    neurons = spec['neurons']
    sessions = spec.get('sessions')
    if not sessions:
        return lambda x: rates(model(x), spec['output'])
    key = spec['data_key']
    # each session's columns in the neurons' list: contiguous, in session order, so concatenation
    # puts them where make_onnx_fixtures.references() does
    owner = [n.rsplit(':', 1)[0] for n in neurons]
    assert owner == [s for s in sessions for _ in range(owner.count(s))], 'sessions must come in order'
    return lambda x: rates(torch.cat([model(x, **{key: s}) for s in sessions], 1), spec['output'])


def rel_err(got, expected):
    scale = float(np.abs(expected).max())
    err = float(np.abs(got - expected).max())
    return err / scale if scale else err


class Family:
    """One fixture family rebuilt, its probe written, ready to be timed."""

    def __init__(self, key, probe_dir, probe_batch):
        model, spec, _ = family(key, SEEDS[key])
        for p in model.parameters():
            p.requires_grad_(False)
        self.f = encoder(model, spec)
        inp = spec['input']
        self.shape = (inp['channels'], inp['height'], inp['width'])
        self.n = len(spec['neurons'])
        self.gen = torch.Generator().manual_seed(1000 + SEEDS[key])
        self.w = torch.randn(self.n, generator=self.gen)
        self.inputs = {}

        # the rebuild against the exported fixture's float64 reference
        fixture = os.path.join(FIXTURES, key)
        with torch.no_grad():
            r = self.f(torch.from_numpy(np.load(os.path.join(fixture, 'input.npy')))).numpy()
        self.rebuilt_rel_err = rel_err(r, np.load(os.path.join(fixture, 'output.npy')))

        # probe: one random batch, float32 forward and autograd
        x = torch.randn(probe_batch, *self.shape, generator=self.gen).requires_grad_(True)
        y = self.f(x)
        y.backward(self.w.expand(probe_batch, self.n))
        d = os.path.join(probe_dir, key)
        os.makedirs(d, exist_ok=True)
        for name, a in [('x', x.detach()), ('w', self.w), ('rates', y.detach()), ('grad', x.grad)]:
            np.save(os.path.join(d, f'{name}.npy'), a.numpy().astype(np.float32))

    def runs(self, mode, batch):
        if batch not in self.inputs:
            self.inputs[batch] = (torch.randn(batch, *self.shape, generator=self.gen), self.w.expand(batch, self.n).contiguous())
        x, seed = self.inputs[batch]

        def fwd():
            with torch.no_grad():
                return self.f(x)

        def grad():
            xg = x.clone().requires_grad_(True)
            self.f(xg).backward(seed)
            return xg.grad

        return fwd if mode == 'fwd' else grad


def times_ms(fn, repeats, warmups):
    for _ in range(warmups):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def blas_library():
    """The BLAS this process loaded (Debian's torch calls whatever libblas.so.3 is selected)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open('/proc/self/maps') as maps:
        libs = {os.path.realpath(line.split()[-1]) for line in maps if 'blas' in line.rsplit('/', 1)[-1]}
    return ', '.join(sorted('/'.join(lib.split('/')[-2:]) for lib in libs)) or '?'


def main():
    families = {}
    reply = lambda obj: print(json.dumps(obj), flush=True)  # noqa: E731
    reply({'torch': torch.__version__, 'numpy': np.__version__, 'blas': blas_library()})
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd['op'] == 'load':
                fam = families[cmd['family']] = Family(cmd['family'], cmd['probe_dir'], cmd['probe_batch'])
                reply({'neurons': fam.n, 'rebuilt_rel_err': fam.rebuilt_rel_err})
            elif cmd['op'] == 'time':
                torch.set_num_threads(cmd['threads'])
                fn = families[cmd['family']].runs(cmd['mode'], cmd['batch'])
                reply({'ms': times_ms(fn, cmd['repeats'], cmd['warmups'])})
            else:
                reply({'error': f'unknown op {cmd["op"]}'})
        except Exception as e:  # one family's failure leaves the others' figures
            reply({'error': f'{type(e).__name__}: {e}'})


if __name__ == '__main__':
    main()
