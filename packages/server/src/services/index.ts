/**
 * The services, one line each, in start order (a service may use the APIs of those before it).
 * Everything else about a service is declared in its module (platform/service.ts).
 */
import { s3Service } from './s3/index.js';
import { datafenceService } from './datafence/index.js';
import { dataflowService } from './dataflow/index.js';
import { cfsService } from './cfs/index.js';
import { stockadeService } from './stockade/index.js';

export const SERVICES = [s3Service, datafenceService, dataflowService, cfsService, stockadeService] as const;
