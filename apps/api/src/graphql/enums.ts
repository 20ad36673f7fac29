/**
 * The schema's enums as the database stores them: GraphQL names outside (GA, EGG_X0, SUCCEEDED),
 * the engine's and the tables' values inside ('ga', 'egg-x0', 'succeeded'). codegen.ts types the
 * resolvers with these types; the maps below are the resolvers that translate.
 */
import type { SettingSpec } from '@excite/engine';
import type { ImageKind, Method, ModelKind, ModelSource, RunStatus, TokenRole, TrainingArchitecture, TrainingKind } from '../db/schema.ts';

export type { ImageKind, Method, ModelKind, ModelSource, RunStatus, TokenRole, TrainingArchitecture, TrainingKind };
export type TrainingEventKind = 'batch' | 'epoch' | 'status';
export type DatasetKind = 'images' | 'recording';
export type GaOptimizer = 'adamw' | 'sgd';

export const ENUM_VALUES = {
  Method: { GA: 'ga', EGG: 'egg', EGG_X0: 'egg-x0', MENI: 'meni', RECONSTRUCTION: 'recon', TOP_K: 'topk', DIVERSE: 'diverse' } satisfies Record<string, Method>,
  RunStatus: { QUEUED: 'queued', RUNNING: 'running', SUCCEEDED: 'succeeded', FAILED: 'failed', CANCELLED: 'cancelled' } satisfies Record<string, RunStatus>,
  ModelKind: { ENCODER: 'encoder', ENSEMBLE: 'ensemble', COMPACT: 'compact', ONNX: 'onnx', PRIOR: 'prior' } satisfies Record<string, ModelKind>,
  ModelSource: { DEMO: 'demo', UPLOAD: 'upload', TRAINED: 'trained' } satisfies Record<string, ModelSource>,
  TrainingKind: { ENCODER: 'encoder', READOUT: 'readout', PRIOR: 'prior' } satisfies Record<string, TrainingKind>,
  TrainingArchitecture: { ATTENTION: 'attention', GAUSSIAN: 'gaussian' } satisfies Record<string, TrainingArchitecture>,
  TrainingEventKind: { BATCH: 'batch', EPOCH: 'epoch', STATUS: 'status' } satisfies Record<string, TrainingEventKind>,
  ImageKind: { MEI: 'mei', MENI: 'meni', DIVERSE: 'diverse', RECONSTRUCTION: 'recon', NATURAL: 'natural' } satisfies Record<string, ImageKind>,
  DatasetKind: { IMAGES: 'images', RECORDING: 'recording' } satisfies Record<string, DatasetKind>,
  GaOptimizer: { ADAMW: 'adamw', SGD: 'sgd' } satisfies Record<string, GaOptimizer>,
  TokenRole: { READ: 'read', RUN: 'run', ADMIN: 'admin' } satisfies Record<string, TokenRole>,
  SettingKind: { INTEGER: 'integer', NUMBER: 'number', CHOICE: 'choice' } satisfies Record<string, SettingSpec['kind']>,
};
