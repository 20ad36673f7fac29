'use client';
/** A finished run's energy and activation at every step (its trajectory's .npy blobs). */
import type { RunDetails } from '@excite/sdk';
import { firstSeries, parseNpy } from './npy.ts';
import { useResource } from './use-resource.ts';

export function useTrajectory(trajectory: RunDetails['trajectory'] | undefined) {
  return useResource(
    async (client, signal) => {
      if (!trajectory) return null;
      const [energy, activation] = await Promise.all([client.download(trajectory.energy, { signal }), client.download(trajectory.activation, { signal })]);
      const e = firstSeries(parseNpy(energy));
      return { stepAxis: e.map((_, i) => i + 1), energy: e, activation: firstSeries(parseNpy(activation)) };
    },
    [trajectory?.energy.hash, trajectory?.activation.hash],
  );
}
