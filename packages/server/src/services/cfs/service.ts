/** CFS's instance: its repository and the hooks the platform calls. */
import type { AppContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import { CfsRepository } from './repository.js';

export class CfsService implements ServiceHooks {
  readonly repo: CfsRepository;

  constructor(readonly app: AppContext) {
    this.repo = new CfsRepository(app.store);
  }
}
