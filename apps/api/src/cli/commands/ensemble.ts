/** `excite ensemble`: one ensemble folder from the members of several trained models. */
import { Command } from 'commander';
import { combineEnsemble } from '@excite/engine';

export function ensembleCommand(): Command {
  return new Command('ensemble')
    .description('one ensemble from every member of the given models (encoder or ensemble folders of the same sessions and neurons), copied into a new folder')
    .argument('<models...>', 'model or ensemble folders, in order')
    .requiredOption('--out <dir>', 'the new ensemble folder (must not exist)')
    .option('--name <name>', "the ensemble's name in model.json (default: the folder)")
    .action(async (models: string[], o: { out: string; name?: string }) => {
      const r = await combineEnsemble(o.out, models, { name: o.name });
      console.log(`${o.out}: an ensemble of ${r.members.length} members (${r.sources.join(', ')})`);
    });
}
