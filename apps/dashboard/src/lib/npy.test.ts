import { describe, expect, it } from 'vitest';
import { float32, encodeNpy } from '@excite/engine';
import { firstSeries, parseNpy } from './npy.ts';

describe('.npy trajectories', () => {
  it("reads the service's float32 arrays and takes the first image's series", () => {
    const bytes = encodeNpy(float32([3, 2], new Float32Array([1, 10, 2, 20, 3, 30])));
    const a = parseNpy(bytes);
    expect(a.shape).toEqual([3, 2]);
    expect(firstSeries(a)).toEqual([1, 2, 3]);
    expect(firstSeries(parseNpy(encodeNpy(float32([2], new Float32Array([5, 6])))))).toEqual([5, 6]);
  });
});
