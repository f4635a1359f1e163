/** NAVER Cloud Datafence: fences, boxes, imports, exports and their review. */
import { defineService } from '../../platform/service.js';
import { handlers } from './handlers.js';
import { migrations } from './migrations.js';
import { DatafenceService } from './service.js';
import { datafenceTables } from './tables.js';
import { tasks } from './tasks.js';

export const datafenceService = defineService({
  name: 'datafence',
  serves: 'datafence',
  handlers,
  tables: datafenceTables,
  migrations,
  tasks,
  create: (app) => new DatafenceService(app),
});
