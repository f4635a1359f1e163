/** The `stockade` service's instance: no state beyond the platform it reads. */
import type { AppContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';

export class StockadeService implements ServiceHooks {
  constructor(readonly app: AppContext) {}
}
