import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { datafenceOps, DATAFENCE_MESSAGES, DatafenceSchemas, operationsOf } from '../src/ops/index.js';

const ops = operationsOf('datafence');

/** The declared body schema of a POST/PATCH operation. */
function bodyOf<B>(def: { body?: B }): B {
  assert.ok(def.body);
  return def.body;
}

test('Datafence declares exactly 37 operations with unique method+path under /api/v1/', () => {
  assert.equal(ops.length, 37);
  assert.equal(new Set(ops.map(({ def }) => `${def.method} ${def.path}`)).size, 37);
  assert.equal(new Set(ops.map(({ def }) => def.name)).size, 37);
  for (const { key, def } of ops) assert.ok(def.path.startsWith('/api/v1/'), `${key}: ${def.path}`);
});

test('method keys are the camelCase of the vendor names', () => {
  for (const { key, def } of ops) {
    assert.equal(key, def.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  }
});

test('GET and DELETE take a query, POST and PATCH a body; parameterised operations list invalidParameter', () => {
  for (const { key, def } of ops) {
    const reads = def.method === 'GET' || def.method === 'DELETE';
    if (reads) assert.equal(def.body, undefined, key);
    else assert.ok(def.body && !def.query, key);
    if (def.query || def.body) assert.ok(def.errors.some((e) => e.code === '10001'), key);
  }
});

test('roles: owner and fence-admin review exports and change infrastructure, box-user does the rest', () => {
  const infra = /^(change-datafence-infra|change-fence-nas-volume|create-box|change-box-.*|return-box)$/;
  for (const { key, def } of ops) {
    const review = def.path.startsWith('/api/v1/export-approval/');
    const expected = review || infra.test(def.name) ? 'fence-admin' : 'box-user';
    assert.equal(def.role, expected, key);
  }
});

test('every mutation has its fixed success message', () => {
  const mutations = ops.filter(({ def }) => def.method !== 'GET').map(({ def }) => def.name);
  assert.deepEqual([...mutations].sort(), Object.keys(DATAFENCE_MESSAGES).sort());
});

test('password rule (§1.7)', () => {
  const ok = (p: string) => Value.Check(DatafenceSchemas.Password, p);
  assert.ok(ok('Password1000#'));
  assert.ok(!ok('Pass1#'), 'too short');
  assert.ok(!ok('Password10000000#'), 'too long');
  assert.ok(!ok('password1000#'), 'no upper-case letter');
  assert.ok(!ok('Password#'), 'no digit');
  assert.ok(!ok('Password1000'), 'no special character');
  for (const c of ["'", '"', '`', '₩', '/', '&', '$', ' ']) assert.ok(!ok(`Password1${c}`), `forbids ${c}`);
  // JSON Schema validators compile patterns with the `u` flag.
  assert.doesNotThrow(() => new RegExp(DatafenceSchemas.Password.pattern!, 'u'));
});

test('bodies enforce documented constraints', () => {
  const resize = bodyOf(datafenceOps.changeFenceNasVolume);
  assert.ok(Value.Check(resize, { fenceId: 1, instanceNo: 3944000, volumeSize: 600 }));
  assert.ok(Value.Check(resize, { fenceId: 1, instanceNo: '3944000', volumeSize: 600 }));
  assert.ok(!Value.Check(resize, { fenceId: 1, instanceNo: 3944000, volumeSize: 650 }));
  assert.ok(!Value.Check(resize, { fenceId: 1, instanceNo: 3944000, volumeSize: 10100 }));

  const exp = bodyOf(datafenceOps.createFileExport);
  const base = {
    fenceId: 26,
    boxId: 74,
    sourceNasInstanceNo: 1234,
    sourceFilePathList: ['108_datafence001.csv'],
    targetBucketName: 'test-bucket-for-fence',
    fileDescription: 'Test file',
    exportPurpose: 'File export test',
    description: '',
  };
  assert.ok(Value.Check(exp, base));
  assert.ok(!Value.Check(exp, { ...base, sourceFilePathList: Array.from({ length: 11 }, (_, i) => `${i}.csv`) }));

  // The vendor's own example omits rejectReason; a strict server answers 10001.
  assert.ok(!Value.Check(bodyOf(datafenceOps.exportFileReject), { fenceId: 26, boxId: 74, fileId: 102 }));

  const box = bodyOf(datafenceOps.createBox);
  assert.ok(
    Value.Check(box, {
      fenceId: 26,
      createBoxInfo: {
        connectServerList: [{ specCode: 'c', storageSize: 300, userPassword1: 'Password1000#' }],
        linuxServerList: [{ specCode: 'l', softwareCode: 's', storageSize: 500, userPassword: 'Password1000#' }],
        nasList: [{ nasSize: 500, count: 1 }],
        hadoopList: [
          {
            EdgeNodeSpecCode: 'e',
            masterNodeSpecCode: 'm',
            masterNodeStorageSize: 100,
            workerNodeSpecCode: 'w',
            workerNodeCount: 2,
            workerNodeStorageSize: 100,
            userPassword: 'Password1000#',
          },
        ],
      },
    }),
  );
});
