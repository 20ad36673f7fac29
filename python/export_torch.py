#!/usr/bin/python3
"""Export a PyTorch encoder ("digital twin") to an excite model folder of kind onnx.

A model folder holds ``model.json`` plus one ONNX graph (``model.onnx``), or one graph per
session when the model's forward() takes a keyword that selects the session. Each graph maps
the standardized image ``(pixels in 0..255 - mean) / std`` of shape ``[batch, C, H, W]`` (the
batch axis is dynamic) to one output ``[batch, neurons of that graph]``, *before* the output
nonlinearity that ``model.json`` names (excite applies it).

Use from Python (standard library + torch only)::

    import sys; sys.path.insert(0, 'python')      # this folder of the excite repository
    from export_torch import export_model

    export_model(model, 'models/my-twin', name='my-twin',
                 architecture='stacked conv core + factorized readout',
                 input=dict(channels=1, height=36, width=64, mean=[118.0], std=[62.0]),
                 neurons=['21067-10-18:0', '21067-10-18:1', ...],
                 output='identity')

With a neuralpredictors model (``forward(x, data_key=...)``, one readout per session), export
one graph per session: pass ``data_key='data_key'`` and list every session's neurons in
``neurons`` as ``'<session>:<row>'``, the row being the neuron's index in that session's
responses; the session's graph outputs that session's neurons in the order they appear in
``neurons``::

    sessions = list(model.readout.keys())
    neurons = [f'{s}:{i}' for s in sessions for i in range(model.readout[s].outdims)]
    export_model(model, 'models/sensorium', name='sensorium', architecture='...',
                 input=dict(channels=1, height=36, width=64, mean=[m], std=[s]),
                 neurons=neurons, output='identity', data_key='data_key', sessions=sessions)

The image statistics are in pixel units 0..255: if your data loader scales images to 0..1 or
standardizes them itself, give the mean/std that map 0..255 pixels to what your model was
trained on. A neuralpredictors encoder applies its output nonlinearity (ELU + 1) inside
forward(), so ``output='identity'`` is right for it as is; to let excite apply the
nonlinearity instead (which it prefers: it knows the rates' lower bound), export a small module
whose forward returns ``model.readout(model.core(x), data_key=data_key) + offset`` (without the
ELU) and declare ``output='elu1'``. Other forward keywords (behavior, pupil_center, ...) must be
fixed by such a wrapper, since the graph's only input is the image.

export_model puts the module in eval mode (BatchNorm uses running statistics, dropout is off),
runs a trial forward to check the declared input shape and the neuron count, exports with
torch.onnx.export (constant folding on, dynamic batch axis), and writes model.json last and
atomically. Mismatches raise ValueError with a message naming the mismatch.

Run ``/usr/bin/python3 python/export_torch.py --help`` for the command-line form, which loads a
module from a Python file (a function that returns it) and a JSON file of the other arguments.
"""

import argparse
import datetime
import importlib.util
import io
import json
import math
import os
import re
import sys
import tempfile

import torch

OUTPUTS = ('identity', 'elu1', 'softplus', 'exp')
MIN_OPSET, MAX_OPSET = 13, 17
FORMAT = 1
INPUT_NAME, OUTPUT_NAME = 'image', 'responses'


class _SessionForward(torch.nn.Module):
    """forward(x) = module(x, **{data_key: session}): one session's graph."""

    def __init__(self, module, data_key, session):
        super().__init__()
        self.module = module
        self.data_key = data_key
        self.session = session

    def forward(self, x):
        return self.module(x, **{self.data_key: self.session})


def _check_input(inp):
    if not isinstance(inp, dict):
        raise ValueError('input must be a dict with channels, height, width, mean, std')
    missing = [k for k in ('channels', 'height', 'width', 'mean', 'std') if k not in inp]
    if missing:
        raise ValueError(f'input is missing {", ".join(missing)}')
    extra = sorted(set(inp) - {'channels', 'height', 'width', 'mean', 'std'})
    if extra:
        raise ValueError(f'input has unknown keys {", ".join(extra)}')
    dims = {}
    for k in ('channels', 'height', 'width'):
        v = inp[k]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f'input.{k} must be a positive integer, got {v!r}')
        dims[k] = v
    stats = {}
    for k in ('mean', 'std'):
        v = inp[k]
        if not isinstance(v, (list, tuple)):
            raise ValueError(f'input.{k} must be a list with one number per channel, got {v!r}')
        if len(v) != dims['channels']:
            raise ValueError(f'input.{k} has {len(v)} values but input.channels is {dims["channels"]}: give one per channel')
        vals = []
        for i, x in enumerate(v):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise ValueError(f'input.{k}[{i}] must be a finite number, got {x!r}')
            if k == 'std' and x <= 0:
                raise ValueError(f'input.std[{i}] must be positive, got {x!r}')
            vals.append(float(x))
        stats[k] = vals
    return {**dims, **stats}


def _parse_neurons(neurons):
    if not isinstance(neurons, (list, tuple)) or not neurons:
        raise ValueError('neurons must be a non-empty list of "session:index" strings')
    parsed, seen = [], set()
    for i, n in enumerate(neurons):
        m = re.fullmatch(r'(.+):(\d+)', n) if isinstance(n, str) else None
        if not m:
            raise ValueError(f'neurons[{i}] is {n!r}; expected "session:index" (index a non-negative integer)')
        if n in seen:
            raise ValueError(f'neurons[{i}] {n!r} appears twice')
        seen.add(n)
        parsed.append((m.group(1), int(m.group(2))))
    return parsed


def _graph_file(session, taken):
    base = re.sub(r'[^A-Za-z0-9._-]+', '_', str(session)).strip('._') or 'session'
    name, k = f'{base}.onnx', 2
    while name.lower() in taken:
        name, k = f'{base}-{k}.onnx', k + 1
    taken.add(name.lower())
    return name


def _trial(module, inp, label, expected):
    """Run the module on a batch of 2 declared-shape images; return the output width."""
    shape = (2, inp['channels'], inp['height'], inp['width'])
    with torch.no_grad():
        try:
            y = module(torch.randn(*shape))
        except Exception as e:  # the declared channels/size do not fit the module
            raise ValueError(f'{label}: a trial forward on input [batch, C, H, W] = {list(shape)} '
                             f'(input.channels/height/width) failed: {type(e).__name__}: {e}') from e
    if not isinstance(y, torch.Tensor):
        raise ValueError(f'{label}: forward must return one tensor [batch, neurons], got {type(y).__name__}')
    if y.dim() != 2 or y.shape[0] != 2:
        raise ValueError(f'{label}: forward must return [batch, neurons]; for input {list(shape)} it returned {list(y.shape)}')
    if y.dtype != torch.float32:
        raise ValueError(f'{label}: forward returned {y.dtype}; excite expects float32 (call module.float())')
    if y.shape[1] != expected:
        raise ValueError(f'{label}: the output has {y.shape[1]} columns but neurons lists {expected} '
                         f'neuron(s) for it: the neuron count does not match the output width')
    if not torch.isfinite(y).all():
        raise ValueError(f'{label}: the trial forward gave non-finite outputs')
    return y.shape[1]


def _export(module, inp, opset):
    # trace with a batch of 2 rather than 1, so the trace never sees a batch axis of size 1,
    # which squeeze() and broadcasting treat specially
    x = torch.randn(2, inp['channels'], inp['height'], inp['width'])
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            module, (x,), buf,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: 'batch'}, OUTPUT_NAME: {0: 'batch'}},
            opset_version=opset, do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
        )
    return buf.getvalue()


def _write_atomic(path, data):
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the folder is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export_model(module, out_dir, *, name, architecture, input, neurons, output='identity',
                 data_key=None, sessions=None, opset=17):
    """Export ``module`` into the model folder ``out_dir``; return the model.json dict.

    module: a torch.nn.Module, float32, whose forward(x) (or forward(x, **{data_key: session}))
      maps standardized images [batch, C, H, W] to [batch, neurons] before ``output``.
    name, architecture: free text (architecture describes the model, e.g. "ResNet-18 core +
      linear readout").
    input: dict(channels, height, width, mean=[per channel], std=[per channel]) in 0..255 units.
    neurons: ["session:index", ...], the output columns in order.
    output: 'identity' | 'elu1' | 'softplus' | 'exp', the nonlinearity excite applies.
    data_key: None, or the forward() keyword that selects the session: one graph per session.
    sessions: with data_key, the session keys to export (default: the sessions in ``neurons``,
      in order of first appearance); they must be exactly the sessions that ``neurons`` names.
    opset: ONNX opset, 13..17.
    """
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f'module must be a torch.nn.Module, got {type(module).__name__}')
    if not isinstance(name, str) or not name.strip():
        raise ValueError('name must be a non-empty string')
    if not isinstance(architecture, str) or not architecture.strip():
        raise ValueError('architecture must be a non-empty string (free text describing the model)')
    if output not in OUTPUTS:
        raise ValueError(f'output must be one of {", ".join(OUTPUTS)}, got {output!r}')
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f'opset must be an integer from {MIN_OPSET} to {MAX_OPSET}, got {opset!r}')
    inp = _check_input(input)
    parsed = _parse_neurons(neurons)
    neurons = list(neurons)
    non_float = sorted({str(t.dtype) for t in list(module.parameters()) + list(module.buffers())
                        if t.is_floating_point() and t.dtype != torch.float32})
    if non_float:
        raise ValueError(f'the module has {", ".join(non_float)} parameters or buffers; export a float32 module (module.float())')

    named = [s for s, _ in parsed]
    if data_key is None:
        if sessions is not None:
            raise ValueError('sessions is only meaningful with data_key (one graph per session)')
        plan = [(None, len(neurons), 'model.onnx')]
    else:
        if not isinstance(data_key, str) or not data_key.isidentifier():
            raise ValueError(f'data_key must be the name of a forward() keyword, got {data_key!r}')
        in_order = list(dict.fromkeys(named))
        if sessions is None:
            sessions = in_order
        sessions = list(sessions)
        if len(set(map(str, sessions))) != len(sessions):
            raise ValueError(f'sessions lists a session twice: {sessions}')
        unlisted = [s for s in in_order if s not in map(str, sessions)]
        if unlisted:
            raise ValueError(f'neurons name session(s) {", ".join(unlisted)} that sessions does not list')
        empty = [str(s) for s in sessions if str(s) not in in_order]
        if empty:
            raise ValueError(f'session(s) {", ".join(empty)} have no neurons in neurons')
        taken = set()
        plan = [(s, named.count(str(s)), _graph_file(s, taken)) for s in sessions]

    os.makedirs(out_dir, exist_ok=True)
    was_training = module.training
    module.eval()
    try:
        graphs = []
        for session, count, file in plan:
            m = module if session is None else _SessionForward(module, data_key, session)
            # torch.onnx.export hands back the exported module in the training state it found it
            # in, recursively: a fresh wrapper is in training mode, which would put the model in
            # training mode for the next session's trial forward and update its BatchNorm stats
            m.eval()
            label = 'model' if session is None else f'session {session!r} ({data_key}={session!r})'
            _trial(m, inp, label, count)
            graphs.append((session, file, _export(m, inp, opset)))
    finally:
        module.train(was_training)

    for _, file, data in graphs:
        _write_atomic(os.path.join(out_dir, file), data)
    meta = {
        'kind': 'onnx',
        'format': FORMAT,
        'name': name,
        'architecture': architecture,
        'input': inp,
        'neurons': neurons,
        'output': output,
        'dataKey': data_key,
    }
    if data_key is None:
        meta['graph'] = graphs[0][1]
    else:
        meta['graphs'] = {str(s): f for s, f, _ in graphs}
    meta['exported'] = {
        'torch': torch.__version__,
        'opset': opset,
        'date': datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z'),
    }
    _write_atomic(os.path.join(out_dir, 'model.json'), (json.dumps(meta, indent=2) + '\n').encode())
    return meta


def _main(argv=None):
    p = argparse.ArgumentParser(
        description='Export a PyTorch encoder to an excite model folder (kind "onnx"): model.json plus '
                    'one ONNX graph, or one per session. The module comes from a Python file whose '
                    'function (default: build_model) takes no arguments and returns it, weights loaded.',
        epilog='The JSON file holds the other arguments of export_model: {"name": ..., "architecture": ..., '
               '"input": {"channels": C, "height": H, "width": W, "mean": [..], "std": [..]}, '
               '"neurons": ["session:index", ...], "output": "identity|elu1|softplus|exp", '
               '"dataKey": null or the forward() keyword selecting the session, "sessions": [...] (optional)}. '
               'Example: /usr/bin/python3 python/export_torch.py --module my_twin.py --spec spec.json --out models/my-twin. '
               'From Python: from export_torch import export_model (see the module docstring).')
    p.add_argument('--module', required=True, help='Python file defining the function that returns the module')
    p.add_argument('--function', default='build_model', help='name of that function (default: build_model)')
    p.add_argument('--spec', required=True, help='JSON file with name, architecture, input, neurons, output, dataKey, sessions')
    p.add_argument('--out', required=True, help='model folder to write')
    p.add_argument('--opset', type=int, default=17, help=f'ONNX opset, {MIN_OPSET}..{MAX_OPSET} (default 17)')
    a = p.parse_args(argv)
    spec_obj = importlib.util.spec_from_file_location('excite_user_module', a.module)
    mod = importlib.util.module_from_spec(spec_obj)
    spec_obj.loader.exec_module(mod)
    module = getattr(mod, a.function)()
    with open(a.spec) as f:
        spec = json.load(f)
    try:
        meta = export_model(module, a.out, name=spec.get('name'), architecture=spec.get('architecture'),
                            input=spec.get('input'), neurons=spec.get('neurons'),
                            output=spec.get('output', 'identity'), data_key=spec.get('dataKey'),
                            sessions=spec.get('sessions'), opset=a.opset)
    except ValueError as e:
        print(f'export_torch: {e}', file=sys.stderr)
        return 1
    files = [meta['graph']] if meta['dataKey'] is None else list(meta['graphs'].values())
    print(f'wrote {os.path.join(a.out, "model.json")} and {", ".join(files)}: {len(meta["neurons"])} neurons')
    return 0


if __name__ == '__main__':
    sys.exit(_main())
