export * from './ncp.js';
export * from './bce.js';
