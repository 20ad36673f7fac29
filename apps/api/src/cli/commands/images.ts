/**
 * `excite images export`: a batch's or a run's images for a stimulus presentation rig: PNG and
 * .npy files numbered in creation order and images.csv with what made each and its scores.
 */
import { Command } from 'commander';
import { exportImages } from '@excite/sdk/node';
import { type ConnectionOptions, clientCommand, withClient } from './client.ts';

function exportCommand() {
  return clientCommand('export')
    .description('PNG (pixel space) and .npy (float32, the method’s space) of a batch’s or a run’s images, with images.csv of their scores; prints the CSV’s path')
    .argument('<id>', 'a batch id or a run id')
    .requiredOption('--out <dir>', 'folder to write to (made if missing)')
    .option('--json', 'print {"csv", "images": [{"stimulus", "png", "npy", "image", ...}]}')
    .action((id: string, o: ConnectionOptions & { out: string; json?: boolean }) =>
      withClient(o, async (client) => {
        const batch = await client.batch({ id, runsFirst: 0 });
        const filter = batch ? { batch: id } : { run: id };
        if (!batch && !(await client.run({ id }))) throw new Error(`NOT_FOUND: no batch or run with id "${id}"`);
        if (batch && !batch.done) console.error(`excite: batch ${id} is still running (${batch.counts.succeeded} of ${batch.runCount} runs done): exporting the images it has`);
        const result = await exportImages(client, filter, o.out);
        if (o.json) {
          console.log(JSON.stringify({ csv: result.csv, images: result.images.map((e) => ({ stimulus: e.stimulus, png: e.png, npy: e.npy, image: e.image.id, run: e.image.run.id, method: e.image.method, neuron: e.image.neuron, seed: e.image.seed, activation: e.image.activation })) }));
        } else {
          console.error(`excite: ${result.images.length} images (PNG and .npy) in ${o.out}`);
          console.log(result.csv);
        }
      }),
    );
}

export function imagesCommand() {
  return new Command('images').description('results of runs on a running service').addCommand(exportCommand());
}
