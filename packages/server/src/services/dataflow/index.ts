/** NAVER Cloud Data Flow: ETL jobs, executions, workflows, triggers and the dashboard. */
import { defineService } from '../../platform/service.js';
import { handlers } from './handlers.js';
import { fire } from './scheduler.js';
import { workflowHandlers } from './workflows.js';
import { migrations } from './migrations.js';
import { DataflowService } from './service.js';
import { tasks } from './tasks.js';
import { dataflowTables } from './tables.js';

export const dataflowService = defineService({
  name: 'dataflow',
  serves: 'dataflow',
  handlers: { ...handlers, ...workflowHandlers },
  tables: dataflowTables,
  migrations,
  tasks: [...tasks, fire],
  create: (app) => new DataflowService(app),
});
