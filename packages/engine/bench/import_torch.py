"""PyTorch baseline for `npm run bench:import` (bench/import.ts): the fixture encoders of
packages/engine/fixtures/onnx rebuilt in PyTorch exactly as they were exported (python/
make_onnx_fixtures.py's `family(key, seed)`, same seeds, eval mode, float32), timed on the CPU.

usage: import_torch.py OUT_DIR FAMILIES BATCHES THREADS REPEATS WARMUPS PROBE_BATCH
  FAMILIES, BATCHES, THREADS comma-separated (e.g. resnet,vit 1,16 1,2)

Per family and batch size, at each thread count (torch.set_num_threads), the median milliseconds
over REPEATS runs after WARMUPS untimed runs of
  fwd   rates = model(x) (then the declared output nonlinearity), under torch.no_grad()
  grad  the same forward with x.requires_grad, then rates.backward(seed): d/dx sum(rates * w)
A model with a data key (one readout per session) runs once per session and its outputs are put in
the neurons' order, as make_onnx_fixtures.references() combines them.

For the correctness probe, per family OUT_DIR/FAMILY/ receives x.npy [PROBE_BATCH, C, H, W]
(randn), w.npy [neurons], rates.npy and grad.npy (float32 PyTorch, the timed model). As a check of
the rebuild, the model's rates on the fixture's input.npy are compared with its output.npy
(`rebuilt_rel_err`).

Progress goes to stderr; stdout gets one JSON object: {"torch", "numpy", "blas", "families": {..}}.
"""

import json
import os
import statistics
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


def log(line):
    print(line, file=sys.stderr, flush=True)


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


def median_ms(fn, repeats, warmups):
    for _ in range(warmups):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def rel_err(got, expected):
    scale = float(np.abs(expected).max())
    err = float(np.abs(got - expected).max())
    return err / scale if scale else err


def bench_family(key, out, batches, threads, repeats, warmups, probe_batch):
    model, spec, _ = family(key, SEEDS[key])
    for p in model.parameters():
        p.requires_grad_(False)
    f = encoder(model, spec)
    inp = spec['input']
    shape = (inp['channels'], inp['height'], inp['width'])
    n = len(spec['neurons'])
    gen = torch.Generator().manual_seed(1000 + SEEDS[key])
    w = torch.randn(n, generator=gen)
    result = {'neurons': n, 'fwd': {}, 'grad': {}}

    # the rebuild against the exported fixture's float64 reference
    fixture = os.path.join(FIXTURES, key)
    with torch.no_grad():
        r = f(torch.from_numpy(np.load(os.path.join(fixture, 'input.npy')))).numpy()
    result['rebuilt_rel_err'] = rel_err(r, np.load(os.path.join(fixture, 'output.npy')))

    # probe: one random batch, float32 forward and autograd
    x = torch.randn(probe_batch, *shape, generator=gen).requires_grad_(True)
    y = f(x)
    y.backward(w.expand(probe_batch, n))
    d = os.path.join(out, key)
    os.makedirs(d, exist_ok=True)
    for name, a in [('x', x.detach()), ('w', w), ('rates', y.detach()), ('grad', x.grad)]:
        np.save(os.path.join(d, f'{name}.npy'), a.numpy().astype(np.float32))

    for b in batches:
        x = torch.randn(b, *shape, generator=gen)
        seed = w.expand(b, n).contiguous()

        def fwd():
            with torch.no_grad():
                return f(x)

        def grad():
            xg = x.clone().requires_grad_(True)
            f(xg).backward(seed)
            return xg.grad

        for t in threads:
            torch.set_num_threads(t)
            result['fwd'].setdefault(f'b{b}', {})[f't{t}'] = median_ms(fwd, repeats, warmups)
            result['grad'].setdefault(f'b{b}', {})[f't{t}'] = median_ms(grad, repeats, warmups)
        log(f'  torch {key} batch {b}: ' + ', '.join(f'{m} {t}: {result[m][f"b{b}"][t]:.2f} ms' for m in ('fwd', 'grad') for t in result[m][f'b{b}']))
    return result


def blas_library():
    """The BLAS this process loaded (Debian's torch calls whatever libblas.so.3 is selected)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open('/proc/self/maps') as maps:
        libs = {os.path.realpath(line.split()[-1]) for line in maps if 'blas' in line.rsplit('/', 1)[-1]}
    return ', '.join(sorted('/'.join(lib.split('/')[-2:]) for lib in libs)) or '?'


def main():
    out, families, batches, threads, repeats, warmups, probe_batch = sys.argv[1:8]
    families = [s for s in families.split(',') if s]
    batches = [int(s) for s in batches.split(',')]
    threads = [int(s) for s in threads.split(',')]
    torch.manual_seed(0)
    report = {'torch': torch.__version__, 'numpy': np.__version__, 'blas': blas_library(), 'families': {}}
    for key in families:
        try:
            report['families'][key] = bench_family(key, out, batches, threads, int(repeats), int(warmups), int(probe_batch))
        except Exception as e:  # one family's failure leaves the others' figures
            report['families'][key] = {'error': f'{type(e).__name__}: {e}'}
            log(f'  torch {key}: {type(e).__name__}: {e}')
    print(json.dumps(report))


if __name__ == '__main__':
    main()
