/** @excite/engine/testing: small models and data that tests of the engine and of its users build on. */
export { TINY_ENCODER_SPEC, TINY_UNET } from '../synthesis/testing/tiny-models.ts';
export { writeSyntheticSession } from './synthetic-session.ts';
export { V4_DATA, v4Title } from './v4-data.ts';
