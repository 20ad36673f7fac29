/** `excite gradcheck`: every backward rule against finite differences, and onnxruntime against the reference. */
import { Command, Option } from 'commander';
import { GRAD_CASES, type GradResult, gradcheck, parseDevice } from '@excite/engine';

/** Finite differences in float64 agree with the backward graph to ~1e-8; 1e-3 is the contract. */
export const REL_TOLERANCE = 1e-3;
/** onnxruntime computes in float32: relative differences ~1e-6 are rounding. */
export const ORT_TOLERANCE = 1e-4;

export function passed(r: GradResult): boolean {
  return r.rel_err <= REL_TOLERANCE && r.ort_err <= ORT_TOLERANCE;
}

export function gradcheckCommand(): Command {
  return new Command('gradcheck')
    .description('check every backward rule against central finite differences (float64) and onnxruntime against the reference')
    .option('--json', 'one JSON line per check')
    .addOption(new Option('--device <device>', 'onnxruntime device for the comparison').default(process.env.EXCITE_DEVICE ?? 'cpu'))
    .option('--op <name>', 'only the checks of this operator')
    .action(async (opts: { json?: boolean; device: string; op?: string }) => {
      const device = parseDevice(opts.device);
      const cases = GRAD_CASES.filter((c) => !opts.op || c.op === opts.op);
      if (cases.length === 0) throw new Error(`no gradient checks for op "${opts.op}"`);
      let failures = 0;
      for (const c of cases) {
        const r = await gradcheck(c, { device });
        const ok = passed(r);
        if (!ok) failures++;
        if (opts.json) console.log(JSON.stringify({ ...r, ok }));
        else console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.op.padEnd(13)} rel_err ${r.rel_err.toExponential(1)}  ort_err ${r.ort_err.toExponential(1)}  ${r.case}`);
      }
      if (!opts.json) console.error(`${cases.length - failures}/${cases.length} checks passed on ${device}`);
      if (failures) process.exitCode = 1;
    });
}
