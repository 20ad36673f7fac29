/** `excite <command>`: the command line (what each command promises: docs/cli.md). */
import { Command } from 'commander';
import { ensembleCommand } from './commands/ensemble.ts';
import { evalCommand } from './commands/eval.ts';
import { gradcheckCommand } from './commands/gradcheck.ts';
import { imagesCommand } from './commands/images.ts';
import { importOnnxCommand } from './commands/import-onnx.ts';
import { modelsCommand } from './commands/models.ts';
import { samplePriorCommand, trainPriorCommand } from './commands/prior.ts';
import { responsesCommand } from './commands/responses.ts';
import { runsCommand } from './commands/runs.ts';
import { trainingsCommand } from './commands/trainings.ts';
import { migrateCommand, serveCommand, workerCommand } from './commands/serve.ts';
import { simulateRecordingCommand } from './commands/simulate-recording.ts';
import { compareCommand, synthesizeCommand } from './commands/synthesize.ts';
import { tokenCommand } from './commands/token.ts';
import { fitReadoutCommand, teacherDataCommand, trainCommand } from './commands/train.ts';

const program = new Command('excite')
  .description('Most exciting inputs for visual neurons: energy-guided diffusion and gradient ascent on digital twins')
  .showHelpAfterError();

program.addCommand(trainCommand());
program.addCommand(fitReadoutCommand());
program.addCommand(teacherDataCommand());
program.addCommand(evalCommand());
program.addCommand(ensembleCommand());
program.addCommand(trainPriorCommand());
program.addCommand(samplePriorCommand());
program.addCommand(synthesizeCommand());
program.addCommand(compareCommand());
program.addCommand(gradcheckCommand());
program.addCommand(importOnnxCommand());
program.addCommand(simulateRecordingCommand());
program.addCommand(serveCommand());
program.addCommand(workerCommand());
program.addCommand(migrateCommand());
program.addCommand(runsCommand());
program.addCommand(trainingsCommand());
program.addCommand(imagesCommand());
program.addCommand(responsesCommand());
program.addCommand(modelsCommand());
program.addCommand(tokenCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`excite: ${(e as Error).message}`);
  process.exitCode = 1;
}
