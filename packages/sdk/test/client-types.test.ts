import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CfsClient, DatafenceClient, DataFlowClient } from '../src/client/index.js';
import type { OperationInput, OperationOutput } from '../src/ops/types.js';
import { datafenceOps } from '../src/ops/index.js';

const opts = { endpoint: 'http://127.0.0.1:1', accessKeyId: 'a', secretAccessKey: 'b' };

/**
 * Compile-time checks: this function is type-checked by `tsc` but never run. Each
 * `@ts-expect-error` fails the build if the line it guards stops being a type error.
 */
async function typeChecks(): Promise<unknown[]> {
  const df = new DatafenceClient(opts);
  const images = await df.getBoxCustomImage({ fenceId: 1, productCode: 'CON' });
  const imageNo: number = images.content[0]!.imageNo;
  // @ts-expect-error imageNo is a number, not a string
  const wrong: string = images.content[0]!.imageNo;
  // @ts-expect-error productCode is a closed union
  await df.getBoxCustomImage({ fenceId: 1, productCode: 'NOPE' });
  // @ts-expect-error fenceId is required
  await df.getBoxCustomImage({ productCode: 'CON' });
  // @ts-expect-error the input is required when a field is required
  await df.getBoxCustomImage();
  const specs = await df.getProductSpec();
  const code: string = specs[0]!.productCode;
  // @ts-expect-error not an operation of the table
  df.noSuchOperation();

  const flow = new DataFlowClient(opts);
  const job = await flow.getJobById({ jobId: 'j' });
  const jobId: string = job.jobId;
  // @ts-expect-error jobId is a string
  await flow.getJobById({ jobId: 1 });

  const cfs = new CfsClient(opts);
  const list = await cfs.queryFileSystem({ maxKeys: 5 });
  const fsId: string | undefined = list.fileSystemList[0]?.fsId;
  // @ts-expect-error maxKeys is a number
  await cfs.queryFileSystem({ maxKeys: '5' });

  const input: OperationInput<typeof datafenceOps.getBoxCustomImage> = { fenceId: 1, productCode: 'TF_GPU' };
  const output: OperationOutput<typeof datafenceOps.getBoxCustomImage> = { content: [] };
  return [imageNo, wrong, code, jobId, fsId, input, output];
}

test('typed clients compile against the operation table (checked by tsc)', () => {
  assert.equal(typeof typeChecks, 'function');
});
