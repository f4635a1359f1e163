/** @stockade/sdk: the operation table, request signing and typed service clients. */
export * from './ops/index.js';
export * from './signing/index.js';
export * from './client/index.js';
export * from './schedule.js';
