/**
 * Where graphs run: EXCITE_DEVICE=cpu|webgpu|cuda (default cpu), mapped to onnxruntime-node
 * execution providers. A provider that cannot be used is reported by name with what to do.
 */
import ort from 'onnxruntime-node';

export type Device = 'cpu' | 'webgpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'cuda'];

export class DeviceError extends Error {
  constructor(
    message: string,
    readonly device: Device,
  ) {
    super(message);
    this.name = 'DeviceError';
  }
}

export function parseDevice(value: string | undefined): Device {
  const v = (value ?? 'cpu').trim().toLowerCase() || 'cpu';
  if (!(DEVICES as readonly string[]).includes(v)) throw new DeviceError(`EXCITE_DEVICE="${value}" is not one of ${DEVICES.join(', ')}`, 'cpu');
  return v as Device;
}

export function deviceFromEnv(env: NodeJS.ProcessEnv = process.env): Device {
  return parseDevice(env.EXCITE_DEVICE);
}

/**
 * The diffusion UNet's precision from EXCITE_UNET_PRECISION: float32 (default) or float16
 * (guided-diffusion's use_fp16, the paper's setting; for GPUs: on the CPU onnxruntime has few
 * float16 kernels and converts around the rest).
 */
export function unetPrecisionFromEnv(env: NodeJS.ProcessEnv = process.env): 'float32' | 'float16' {
  const v = (env.EXCITE_UNET_PRECISION ?? '').trim().toLowerCase();
  if (v === '' || v === 'float32' || v === 'fp32') return 'float32';
  if (v === 'float16' || v === 'fp16') return 'float16';
  throw new DeviceError(`EXCITE_UNET_PRECISION="${env.EXCITE_UNET_PRECISION}" is not float32 or float16`, 'cpu');
}

const HINT: Record<Device, string> = {
  cpu: '',
  webgpu: 'onnxruntime-node runs WebGPU through Dawn over Vulkan on Linux: install a Vulkan driver (the GPU vendor\'s, or Mesa >= 25 lavapipe for a software device) and libvulkan1',
  cuda: "onnxruntime-node's CUDA provider binaries are not in the npm package: install them with onnxruntime-node's install script (npm install onnxruntime-node --onnxruntime-node-install=cuda12) on a machine with CUDA 12",
};

/** Throws a DeviceError when this onnxruntime-node build does not know the provider at all. */
export function checkProviderKnown(device: Device): void {
  const known = ort.listSupportedBackends().map((b) => b.name);
  if (!known.includes(device)) {
    throw new DeviceError(`EXCITE_DEVICE=${device}: this onnxruntime-node build has no "${device}" execution provider (it has ${known.join(', ')}). ${HINT[device]}`, device);
  }
}

/** Wraps a session-creation failure on a device into an error naming the provider and the fix. */
export function providerFailure(device: Device, cause: unknown): Error {
  if (device === 'cpu') return cause as Error;
  const reason = (cause as Error)?.message ?? String(cause);
  return new DeviceError(`EXCITE_DEVICE=${device}: the ${device} execution provider could not be started (${reason.split('\n')[0]}). ${HINT[device]}`, device);
}

/**
 * Op types to keep on the CPU when running on WebGPU, from EXCITE_WEBGPU_CPU_OPS (comma-separated).
 * A workaround for drivers on which a WebGPU kernel fails: onnxruntime-node 1.30's Conv and
 * ConvTranspose crash on Mesa's software Vulkan device (lavapipe), which CI uses.
 */
export function webgpuCpuOps(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.EXCITE_WEBGPU_CPU_OPS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Execution providers in order of preference; `cpuNodes` are node names pinned to the CPU on WebGPU. */
export function executionProviders(device: Device, cpuNodes: readonly string[] = []): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device) {
    case 'cpu':
      return ['cpu'];
    case 'webgpu': {
      const webgpu: ort.InferenceSession.WebGpuExecutionProviderOption = { name: 'webgpu', preferredLayout: 'NCHW' };
      return [cpuNodes.length ? { ...webgpu, forceCpuNodeNames: cpuNodes } : webgpu, 'cpu'];
    }
    case 'cuda':
      return ['cuda', 'cpu'];
  }
}
