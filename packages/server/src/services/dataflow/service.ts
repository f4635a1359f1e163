/** Data Flow's instance: its repository and the hooks the platform calls. */
import type { AppContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import { DataflowRepository } from './repository.js';

export class DataflowService implements ServiceHooks {
  readonly repo: DataflowRepository;

  constructor(readonly app: AppContext) {
    this.repo = new DataflowRepository(app.store);
  }
}
