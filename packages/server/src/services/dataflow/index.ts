/** NAVER Cloud Data Flow: ETL jobs, executions, workflows, triggers and the dashboard. */
import { defineService } from '../../platform/service.js';
import { handlers } from './handlers.js';
import { migrations } from './migrations.js';
import { DataflowService } from './service.js';
import { tasks } from './tasks.js';
import { dataflowTables } from './tables.js';

export const dataflowService = defineService({
  name: 'dataflow',
  serves: 'dataflow',
  handlers,
  tables: dataflowTables,
  migrations,
  tasks,
  create: (app) => new DataflowService(app),
});
