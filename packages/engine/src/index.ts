/** @excite/engine: ONNX graphs with gradients, their runtime, models, training and synthesis. */
export { Graph, Value, type Node } from './onnx/graph.ts';
export { GraphError } from './onnx/errors.ts';
export * from './onnx/ndarray.ts';
export * from './onnx/shape.ts';
export { appendBackward, type Backward, type BackwardSpec } from './onnx/autodiff.ts';
export { evaluate } from './onnx/evaluate.ts';
export { serialize, decodeModel, type SerializeOptions } from './onnx/serialize.ts';
export { gradcheck, type GradCase, type GradResult } from './gradcheck/gradcheck.ts';
export { GRAD_CASES, REQUIRED_GRADIENT_OPS } from './gradcheck/gradcheck-cases.ts';
export { registeredOps } from './onnx/ops/registry.ts';
export * as ops from './onnx/ops/index.ts';
export * as nn from './nn/index.ts';
export { type Device, DeviceError, deviceFromEnv, parseDevice, unetPrecisionFromEnv } from './runtime/device.ts';
export { EngineSession, SessionCache, createSession, type SessionOptions } from './runtime/session.ts';
export { Rng } from './random.ts';
export { DataFileError, type DataErrorCode, dataErrorCode } from './data/errors.ts';
export { JSON_LIMITS, type JsonLimits, jsonDepth, parseJsonWithin, readJsonWithin } from './data/json.ts';
export { pathExists, pathInside, realPathInside } from './data/paths.ts';
export { type Safetensors, MAX_HEADER_BYTES, decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from './data/safetensors.ts';
export { decodeNpy, encodeNpy, readNpy } from './data/npy.ts';
export { type Image, centerCrop, decodeImage, fitToSize, resizeBilinear, stackImages, toGrayscale } from './data/images.ts';
export { ARCHIVE_LIMITS, type ArchiveLimits, type ImageArchive, columnOrder, readImageArchive } from './data/image-archive.ts';
export { type Dataset, readDataset } from './data/dataset.ts';
export {
  COMPACT_CHANNEL_MEANS,
  COMPACT_IMAGE_SIZE,
  type CompactModel,
  type CompactNeuron,
  compactEncoder,
  compactNeuronRate,
  loadCompactModel,
  readCompactNeuron,
} from './models/compact.ts';
export { timestepEmbedding } from './nn/timestep-embedding.ts';
export {
  type DiffusionSchedule,
  type VarianceKind,
  alphasCumprod,
  ddpmSchedule,
  fixedLogVariance,
  learnedRangeLogVariance,
  linearBetas,
  respaceSchedule,
  respacedTimesteps,
} from './diffusion/schedule.ts';
export { type Denoiser, type DenoiserOutput, type SessionDenoiserOptions, sessionDenoiser } from './diffusion/denoiser.ts';
export {
  type AncestralStepOptions,
  type SampleOptions,
  type StepCallback,
  type StepEvent,
  type StepOptions,
  type StepResult,
  ancestralStep,
  ddimStep,
  gaussianNoise,
  predictX0,
  sampleAncestral,
  sampleDdim,
} from './diffusion/sampler.ts';
export {
  ADM_256_UNCONDITIONAL,
  SMALL_UNET,
  type UNetConfig,
  type UNetGraphOptions,
  type UNetInitOptions,
  type UNetOutputs,
  type UNetPrecision,
  unet,
  unetGraph,
  unetWeightShapes,
} from './models/unet.ts';
export { DEMO_ALT_ENCODER, DEMO_ENCODER, PAPER_ENCODER, type EncoderSpec, type InputSpec, type ReadoutSpec, type SessionSpec, buildEncoder, buildReadouts } from './models/encoder.ts';
export { type EncoderEnsemble, type EncoderModel, loadModel, membersOf, writeEncoder, writeEnsemble } from './models/model-dir.ts';
export { type CombineOptions, type CombineResult, combineEnsemble } from './models/combine-ensemble.ts';
export { type OnnxEncoder, type OnnxMeta, type OnnxModelJson, OUTPUT_TRANSFORMS, checkOnnxMeta, importOnnxModel, isOnnxModelDir, loadOnnxModel } from './models/onnx-model.ts';
export { supportedOnnxOps } from './import/import-graph.ts';
export { type EncoderGraph, type NeuronRef, encoderGraph } from './models/encoder-graph.ts';
export { type EpochReport, type SessionData, type TrainOptions, type TrainResult, trainEncoder } from './train/trainer.ts';
export { LR_SCHEDULES, type LrSchedule, cosineLr } from './train/lr-schedule.ts';
export { type FitReadoutOptions, PRESETS, type PresetName, type RecipeOptions, type TrainModelOptions, type TrainingControl, fitReadouts, trainModel } from './train/workflows.ts';
export { type Evaluation, evaluateModel, isCompactModel } from './evaluate/evaluate-model.ts';
export { type AttentionFocus, attentionFocus, attentionFocusOn } from './evaluate/attention-focus.ts';
export { mean, median, pearsonPerNeuron } from './evaluate/correlation.ts';
export { EXACT_MAX_N, type SignedRankTest, averageRanks, fractionExplainableVariance, meanAndSem, normalSurvival, pearson, splitHalfReliability, wilcoxonSignedRank } from './evaluate/closed-loop.ts';
export { type SimulatedRecording, brainRates, poisson, recordFromRates, simulateRecording } from './evaluate/simulate-recording.ts';
export { type FeatureStatistics, featureStatistics, frechetDistance, frechetDistanceOf, sqrtPsd, symmetricEigen, traceSqrtProduct } from './evaluate/frechet-distance.ts';
export {
  DEMO_PRIOR,
  PRIOR_FORMAT,
  type Prior,
  type PriorDiffusion,
  type PriorImageSpace,
  type PriorMeta,
  type WritePriorOptions,
  defaultDiffusion,
  loadPrior,
  pixelsToPrior,
  priorGraph,
  priorSchedule,
  priorToPixels,
  weightProblems,
  writePrior,
} from './diffusion/prior.ts';
export {
  type AugmentOptions,
  type PriorImageSet,
  type PriorLoss,
  type PriorStepEvent,
  type TrainPriorModelOptions,
  type TrainPriorOptions,
  type TrainPriorResult,
  augmentImage,
  buildPriorLoss,
  evaluatePriorLoss,
  loadPriorImages,
  noiseBatch,
  sampleImageBatch,
  trainPrior,
  trainPriorModel,
} from './diffusion/train-prior.ts';
export { type SamplePriorOptions, samplePrior } from './diffusion/sample-prior.ts';
export { type GridOptions, tileImages, writeImageGrid } from './data/image-grid.ts';
export { type Preview, type ProgressCallback, type SynthesisMethod, type SynthesisProgress, PREVIEW_SIZE, SynthesisError, checkEnergy, previewOf } from './synthesis/progress.ts';
export { type SynthesisItem, type SynthesisResult } from './synthesis/synthesis-result.ts';
export { type RngState, type SynthesisCheckpoint, checkResume, joinCheckpoints, sliceCheckpoint } from './synthesis/checkpoint.ts';
export { type SynthesisEncoder, synthesisEncoder } from './synthesis/synthesis-encoder.ts';
export { type SynthesisPrior, samplingSchedule, synthesisPrior } from './synthesis/synthesis-prior.ts';
export { type Energy, type EnergyGraph, type EnergyTerms, meiEnergy, oneHot, reconstructionEnergy } from './synthesis/energy.ts';
export { diversityMask, withDiversity } from './synthesis/diversity.ts';
export { type EncoderInputShape, type PreprocessOptions, toEncoderInput } from './synthesis/preprocess.ts';
export { type EnergyGradientOptions, type EnergyOutputs, appendEnergy, energyGradientGraph } from './synthesis/energy-graph.ts';
export { type GuidanceForward, type GuidanceOptions, guidanceForward, guidanceGraph } from './synthesis/guidance-graph.ts';
export { gaussianBlur, gaussianKernel } from './synthesis/blur.ts';
export { guidanceUpdate, imageNorms, rescaleToNorm } from './synthesis/image-norm.ts';
export { type GradientAscentSettings, gaMei, gradientAscent } from './synthesis/ga.ts';
export { type GuidedDiffusionSettings, type GuidedMeiSettings, eggMei, eggX0Mei, guidedDiffusion } from './synthesis/egg.ts';
export { MENI_DEFAULTS, meni } from './synthesis/meni.ts';
export { type ImageShape, REFERENCE_IMAGE, guidanceScaleFor, priorImageShape, sizeScaledLabel } from './synthesis/guidance-scale.ts';
export { RECONSTRUCTION_DEFAULTS, type ReconstructionSettings, type ReconstructionTargets, reconstruct } from './synthesis/reconstruction.ts';
export { type DiverseSetSettings, diverseMeis } from './synthesis/diverse-set.ts';
export { type ResponseOptions, encoderResponses } from './synthesis/encoder-responses.ts';
export { type TopK, naturalTopK } from './synthesis/natural-top-k.ts';
export { type SynthesizeRequest, type SynthesizeSettings, type Synthesized, type SynthesizedImage, synthesize } from './synthesis/synthesize.ts';
export { type ChoiceSetting, type ImageKind, type MethodDefinition, type MethodSettings, type NumberSetting, type SettingName, type SettingSpec, defaultLabel } from './synthesis/methods/method.ts';
export { METHODS, METHOD_NAMES, type MethodName, type SettingContext, type SettingLimits, SettingError, methodOf, resolveBatchSettings, resolveSettings } from './synthesis/methods/registry.ts';
export { type Standardization, saturation, toStimulus } from './synthesis/stimulus.ts';
export { type CompareOptions, type CompareRow, compare } from './evaluate/compare.ts';
export { type NeuronChoice, parseNeurons } from './evaluate/neuron-spec.ts';
export { columnOf, maxRates, neuronKey, scoreImages } from './evaluate/transfer.ts';
export { type InputSpace, type ScoringModel, inline, loadScoringModel, pixelScoringGraph, synthesisInput } from './models/scoring-model.ts';
export { loadStimuli, pixelStatistics, standardize, toModelGeometry } from './data/stimuli.ts';
export { type TeacherDataOptions, type TeacherDataResult, augmentedView, writeTeacherData } from './train/teacher-data.ts';
export { loadSession, parseRange, responsesOf, sessionId, splitSession, statisticsOf } from './train/sessions.ts';
export { runBatched, takeRows } from './runtime/batched.ts';
export { BAKED_WEIGHTS_LIMIT, type ExternalWeightsModel, needsExternalWeights, serializeExternalWeights, weightBytes } from './runtime/external-weights.ts';
export { admPriorMeta, loadAdmCheckpoint, loadAdmPrior } from './diffusion/adm.ts';
