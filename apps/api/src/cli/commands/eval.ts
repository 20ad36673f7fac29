/** `excite eval`: per-neuron Pearson r of a model on images of a session. */
import { Command } from 'commander';
import { attentionFocusOn, evaluateModel } from '@excite/engine';

export function evalCommand(): Command {
  return new Command('eval')
    .description("per-neuron Pearson r of a model's predictions on images of a dataset folder")
    .requiredOption('--model <path>', 'model or ensemble folder, or a compact model file or folder')
    .requiredOption('--data <dir>', 'dataset folder of the session')
    .option('--images <A:B>', 'image columns (0-based, B exclusive; default all)')
    .option('--grayscale', "show a color model (compact, imported) the images in grayscale, as excite's encoders see them")
    .option('--attention', 'attention readouts: also how peaked the attention is on these images')
    .option('--json', 'print {"median_r","mean_r","per_neuron":[...]} (and "attention")')
    .action(async (o: { model: string; data: string; images?: string; json?: boolean; attention?: boolean; grayscale?: boolean }) => {
      const e = await evaluateModel(o);
      let focus;
      if (o.attention) {
        const f = await attentionFocusOn(o);
        focus = {
          positions: f.positions,
          median_max_weight: f.medianMaxWeight,
          median_effective_positions: f.medianEffectivePositions,
          focused_fraction: f.focusedFraction,
          median_half_mass_area: f.medianHalfMassArea,
          localized_fraction: f.localizedFraction,
          median_spread: f.medianSpread,
          uniform_spread: f.uniformSpread,
        };
      }
      if (o.json) console.log(JSON.stringify({ ...e, ...(focus ? { attention: focus } : {}) }));
      else {
        console.log(`${e.per_neuron.length} neurons, ${e.images} images: median r ${e.median_r.toFixed(3)}, mean r ${e.mean_r.toFixed(3)}`);
        if (focus) console.log(`attention over ${focus.positions} positions: median largest weight ${focus.median_max_weight.toPrecision(3)} (uniform ${(1 / focus.positions).toPrecision(3)}), median effective positions ${focus.median_effective_positions.toFixed(1)}, ${(100 * focus.focused_fraction).toFixed(0)}% of neurons attend to under a tenth of the map`);
        if (focus) console.log(`half of the attention in a median ${(100 * focus.median_half_mass_area).toFixed(1)}% of the map (uniform 50%), ${(100 * focus.localized_fraction).toFixed(0)}% of neurons hold half of it in under a tenth; median spread ${focus.median_spread.toFixed(1)} positions (uniform ${focus.uniform_spread.toFixed(1)})`);
      }
    });
}
