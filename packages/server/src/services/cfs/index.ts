/** Baidu Cloud File Storage: file systems, mount targets, access groups and rules. */
import { defineService } from '../../platform/service.js';
import { handlers } from './handlers.js';
import { migrations } from './migrations.js';
import { CfsService } from './service.js';
import { cfsTables } from './tables.js';
import { tasks } from './tasks.js';

export const cfsService = defineService({
  name: 'cfs',
  serves: 'cfs',
  handlers,
  tables: cfsTables,
  migrations,
  tasks,
  create: (app) => new CfsService(app),
});
