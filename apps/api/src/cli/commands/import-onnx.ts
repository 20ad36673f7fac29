/** `excite import-onnx`: an encoder exported to ONNX (from PyTorch or elsewhere) as a model folder. */
import { Command } from 'commander';
import { importOnnxModel } from '@excite/engine';

export function importOnnxCommand(): Command {
  return new Command('import-onnx')
    .description('check an exported encoder (every operator differentiable by excite, metadata agreeing with the graph) and write it as a model folder that --model, --generators, --evaluators, eval and models upload accept')
    .argument('<model.onnx...>', 'the exported graph; for a model with a dataKey, one graph per session, in the order of their neurons')
    .requiredOption('--out <dir>', 'the model folder to write (must not exist, or be empty)')
    .option('--meta <META.json>', 'what no graph can say: name, architecture, input {channels, height, width, mean, std}, neurons ["session:index", ...], output, dataKey (docs/formats.md)')
    .option('--name <name>', "the model's name (default: META.json's, else the file's)")
    .option('--json', 'print {"dir","name","neurons","ops","input"}')
    .action(async (graphs: string[], o: { out: string; meta?: string; name?: string; json?: boolean }) => {
      if (!o.meta) throw new Error('--meta META.json is needed: the neurons, the input standardization and the output nonlinearity are not in the graph (docs/formats.md)');
      const model = await importOnnxModel({ graphs, meta: o.meta, out: o.out, name: o.name });
      const summary = { dir: model.dir, name: model.meta.name, neurons: model.neurons.length, ops: model.ops, input: model.meta.input };
      if (o.json) console.log(JSON.stringify(summary));
      else console.log(`${summary.name}: ${summary.neurons} neurons, ${summary.ops} ops, input ${model.meta.input.channels}x${model.meta.input.height}x${model.meta.input.width} -> ${model.dir}`);
    });
}
