/** `excite models upload`: registers a model folder with a running service (POST /upload/model through the SDK). */
import { Command } from 'commander';
import { readFolder } from '@excite/sdk/node';
import { type ConnectionOptions, clientCommand, withClient } from './client.ts';

function uploadCommand() {
  return clientCommand('upload')
    .description('upload a model folder (model.json and weights, an ensemble, a prior, or a compact folder of neuronK.safetensors); prints its id')
    .argument('<dir>', 'the model folder')
    .option('--name <name>', 'its name (default: model.json’s, or the folder’s)')
    .option('--session <id>', 'a compact model’s session (default: the folder’s name)')
    .option('--json', 'print {"id", "name", "kind", "neurons", "created"}')
    .action((dir: string, o: ConnectionOptions & { name?: string; session?: string; json?: boolean }) =>
      withClient(o, async (client) => {
        const model = await client.uploadModel(await readFolder(dir), { name: o.name, session: o.session });
        if (o.json) return console.log(JSON.stringify(model));
        console.error(`excite: ${model.created ? 'registered' : 'already registered:'} ${model.kind.toLowerCase()} "${model.name}"${model.neurons ? ` (${model.neurons} neurons)` : ''}`);
        console.log(model.id);
      }),
    );
}

export function modelsCommand() {
  return new Command('models').description('models of a running service').addCommand(uploadCommand());
}
