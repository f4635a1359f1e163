export * from './ncp.js';
export * from './bce.js';
export * from './sigv4.js';
