/**
 * Type tests (checked by `tsc` in npm test; vitest runs them as no-ops): the generated types
 * follow the schema: nullability, enums, scalars, inputs, and the methods' arguments and results.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { ExciteClient, RunDetails } from './client.ts';
import type { ExciteErrorCode } from './errors.ts';
import type { ErrorCode as ErrorCodeValues } from './generated/enums.ts';
import { type ImageFilter, type Method, RunDocument, RunProgressDocument, type RunProgressSubscription, type RunQuery, type RunStatus, type StartRunsInput, type SynthesisSettingsInput } from './generated/graphql.ts';
import type { Batch, Encoder, Image, ProgressEvent, Run, RunStatusEvent } from './index.ts';

describe('generated types follow schema.graphql', () => {
  it('enums are unions of their values', () => {
    expectTypeOf<RunStatus>().toEqualTypeOf<'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>();
    expectTypeOf<Method>().toEqualTypeOf<'GA' | 'EGG' | 'EGG_X0' | 'MENI' | 'RECONSTRUCTION' | 'TOP_K' | 'DIVERSE'>();
    expectTypeOf<Run['error']>().toEqualTypeOf<{ code: 'DIVERGED' | 'MODEL_UNAVAILABLE' | 'ENGINE_FAILED' | 'WORKER_LOST'; message: string } | null>();
    // the const objects and the operations' unions are the same types
    expectTypeOf<typeof ErrorCodeValues.NOT_FOUND>().toEqualTypeOf<'NOT_FOUND'>();
    expectTypeOf<'NOT_FOUND' | 'BATCH_TOO_LARGE' | 'NETWORK_ERROR'>().toExtend<ExciteErrorCode>();
  });

  it('nullable fields are nullable, lists are arrays, scalars map to strings and unknown', () => {
    expectTypeOf<Run['neuron']>().toEqualTypeOf<{ session: string; index: number } | null>();
    expectTypeOf<Run['progress']>().toEqualTypeOf<{ step: number; steps: number; fraction: number; activation: number | null; energy: number | null; updatedAt: string | null }>();
    expectTypeOf<Run['seconds']>().toEqualTypeOf<number | null>();
    expectTypeOf<Batch['counts']>().toEqualTypeOf<{ queued: number; running: number; succeeded: number; failed: number; cancelled: number }>();
    expectTypeOf<Image['scores']>().toEqualTypeOf<Array<{ value: number; generator: boolean; evaluator: { id: string; name: string; kind: 'ENCODER' | 'ENSEMBLE' | 'COMPACT' | 'ONNX' | 'PRIOR' } }>>();
    expectTypeOf<Image['png']>().toEqualTypeOf<{ hash: string; size: number; mediaType: string; url: string }>();
    expectTypeOf<Encoder['sessions']>().toEqualTypeOf<Array<string>>();
    expectTypeOf<Encoder['createdAt']>().toEqualTypeOf<string>(); // DateTime: ISO 8601 on the wire
    expectTypeOf<Encoder['architecture']>().toEqualTypeOf<unknown>(); // JSON
    expectTypeOf<ProgressEvent['preview']>().toEqualTypeOf<{ width: number; height: number; channels: number; dataUrl: string } | null>();
    expectTypeOf<RunStatusEvent['run']>().toEqualTypeOf<Run>();
  });

  it('inputs: required fields are required, the rest optional', () => {
    expectTypeOf<StartRunsInput['generator']>().toEqualTypeOf<string | number>();
    expectTypeOf<StartRunsInput['methods']>().toEqualTypeOf<Array<Method>>();
    expectTypeOf<StartRunsInput['seeds']>().toEqualTypeOf<Array<number> | null | undefined>();
    expectTypeOf<SynthesisSettingsInput['optimizer']>().toEqualTypeOf<'ADAMW' | 'SGD' | null | undefined>();
    expectTypeOf<ImageFilter>().toHaveProperty('batch');
  });

  it('each method takes its field’s arguments and returns its field’s value', () => {
    const client = {} as ExciteClient;
    expectTypeOf(client.run).parameter(0).toEqualTypeOf<{ id: string | number }>();
    expectTypeOf(client.run).returns.resolves.toEqualTypeOf<RunDetails | null>();
    expectTypeOf(client.health).toBeCallableWith();
    expectTypeOf(client.health).returns.resolves.toEqualTypeOf<string>();
    expectTypeOf(client.runs).toBeCallableWith({ filter: { batch: 'b', status: ['RUNNING'] }, first: 10 });
    expectTypeOf(client.startRuns).returns.resolves.toExtend<Batch & { runs: { nodes: Run[]; totalCount: number } }>();
    expectTypeOf(client.cancelRun).returns.resolves.toEqualTypeOf<Run>();
    expectTypeOf(client.runProgress).returns.toEqualTypeOf<AsyncGenerator<ProgressEvent, void, undefined>>();
    expectTypeOf(client.runStatusChanged).toBeCallableWith();
    expectTypeOf(client.paginate<'images'>).returns.toEqualTypeOf<AsyncGenerator<Image, void, undefined>>();
    // typed documents (not called: the client here is a stand-in)
    const typed = () => {
      expectTypeOf(client.request(RunDocument, { id: 'r' })).resolves.toEqualTypeOf<RunQuery>();
      expectTypeOf(client.subscribe(RunProgressDocument, { run: 'r' })).toEqualTypeOf<AsyncGenerator<RunProgressSubscription, void, undefined>>();
    };
    expectTypeOf(typed).toBeFunction();

    // what the schema refuses does not type-check (never called: the client here is a stand-in)
    const refused = () => {
      // @ts-expect-error: run needs its id
      void client.run();
      // @ts-expect-error: no such method
      void client.startRuns({ input: { generator: 'g', methods: ['GRADIENT'] } });
      // @ts-expect-error: generator is required
      void client.startRuns({ input: { methods: ['GA'] } });
      // @ts-expect-error: steps is an Int
      void client.startRuns({ input: { generator: 'g', methods: ['GA'], settings: { steps: '100' } } });
      // @ts-expect-error: not a field of Run
      void ({} as Run).imagez;
    };
    expectTypeOf(refused).toBeFunction();
  });
});
