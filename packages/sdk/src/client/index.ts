export * from './base.js';
export * from './errors.js';
export * from './clients.js';
export * from './wait.js';
