/**
 * `stockade`: the server's own operations (packages/sdk/src/ops/stockade.ts): the caller's
 * identity and its account's audit log. No tables of its own: it reads the platform's.
 */
import { defineService } from '../../platform/service.js';
import { handlers } from './handlers.js';
import { StockadeService } from './service.js';

export const stockadeService = defineService({
  name: 'stockade',
  serves: 'stockade',
  handlers,
  tables: {},
  migrations: [],
  create: (app) => new StockadeService(app),
});
