import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LifecyclePolicies,
  MANUAL_DUE_AT,
  defaultTransition,
  formatTransition,
  isManualDueAt,
  loadTransitionsFile,
  parseTransition,
  parseTransitions,
  transitionsFromJSON,
} from '../../src/tasks/lifecycle.js';

test('parseTransitions accepts the documented forms', () => {
  assert.deepEqual(parseTransitions('box=delay:3000,export=immediate,import=manual'), {
    box: { mode: 'delay', ms: 3000 },
    export: { mode: 'immediate' },
    import: { mode: 'manual' },
  });
  assert.deepEqual(parseTransitions('box=delay=3000'), { box: { mode: 'delay', ms: 3000 } });
  assert.deepEqual(parseTransitions(' box = delay:0 , *=manual '), {
    box: { mode: 'delay', ms: 0 },
    '*': { mode: 'manual' },
  });
  assert.deepEqual(parseTransitions('job=delay:2s,x.y-z_1=delay:15ms'), {
    job: { mode: 'delay', ms: 2000 },
    'x.y-z_1': { mode: 'delay', ms: 15 },
  });
  assert.deepEqual(parseTransitions(''), {});
  assert.deepEqual(parseTransitions('   '), {});
});

test('parseTransitions rejects bad input with a clear message', () => {
  const cases: Array<[string, RegExp]> = [
    ['box', /expected kind=transition/],
    ['box=', /invalid transition ""/],
    ['box=soon', /invalid transition "soon".*immediate.*manual.*delay:<ms>/],
    ['box=delay', /invalid transition "delay"/],
    ['box=delay:', /invalid transition/],
    ['box=delay:-5', /invalid transition/],
    ['box=delay:1.5', /invalid transition/],
    ['box=delay:abc', /invalid transition/],
    ['box=delay:99999999999999', /at most/],
    ['=immediate', /invalid resource kind ""/],
    ['b ox=immediate', /invalid resource kind "b ox"/],
    ['box=immediate,,export=manual', /empty item/],
    ['box=immediate,', /empty item/],
    ['box=immediate,box=manual', /listed twice/],
    ['Box=IMMEDIATE', /invalid transition "IMMEDIATE"/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseTransitions(input), re, input);
  }
});

test('parseTransition / formatTransition round-trip', () => {
  for (const s of ['immediate', 'manual', 'delay:0', 'delay:3000']) {
    assert.equal(formatTransition(parseTransition(s)), s);
  }
  assert.deepEqual(parseTransition('delay=250'), { mode: 'delay', ms: 250 });
});

test('LifecyclePolicies: defaults per profile, set, setAll, reset, toJSON, dueAt', () => {
  assert.deepEqual(defaultTransition('dev'), { mode: 'immediate' });
  assert.deepEqual(defaultTransition('secure'), { mode: 'delay', ms: 2000 });
  assert.deepEqual(new LifecyclePolicies().get('anything'), { mode: 'immediate' });

  const p = LifecyclePolicies.forProfile('secure', parseTransitions('box=manual'));
  assert.deepEqual(p.get('box'), { mode: 'manual' });
  assert.deepEqual(p.get('export'), { mode: 'delay', ms: 2000 });
  assert.equal(p.dueAt('export', 1000), 3000);
  assert.equal(p.dueAt('box', 1000), MANUAL_DUE_AT);
  assert.ok(isManualDueAt(p.dueAt('box', 1000)));
  assert.ok(!isManualDueAt(Date.now() + 10 * 365 * 86_400_000));

  p.set('export', { mode: 'immediate' });
  assert.equal(p.dueAt('export', 1000), 1000);
  p.setAll({ import: { mode: 'delay', ms: 5 }, '*': { mode: 'manual' } });
  assert.equal(p.dueAt('import', 1000), 1005);
  assert.equal(p.dueAt('other', 1000), MANUAL_DUE_AT);
  assert.deepEqual(p.toJSON(), { '*': 'manual', box: 'manual', export: 'immediate', import: 'delay:5' });
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p.toJSON());

  // setAll validates everything before changing anything.
  assert.throws(() => p.setAll({ a: { mode: 'immediate' }, b: { mode: 'delay', ms: -1 } } as never), /"ms" must be/);
  assert.deepEqual(p.get('a'), { mode: 'manual' });
  assert.throws(() => p.set('bad kind', { mode: 'immediate' }), /invalid resource kind/);

  p.reset();
  assert.deepEqual(p.toJSON(), { '*': 'delay:2000', box: 'manual' });

  // toJSON feeds back into transitionsFromJSON.
  const q = new LifecyclePolicies();
  q.setAll(transitionsFromJSON(p.toJSON()));
  assert.deepEqual(q.toJSON(), p.toJSON());
});

test('transitionsFromJSON accepts strings and objects, rejects the rest', () => {
  assert.deepEqual(transitionsFromJSON({ box: 'delay:10', exp: { mode: 'delay', ms: 20 }, imp: { mode: 'manual' } }), {
    box: { mode: 'delay', ms: 10 },
    exp: { mode: 'delay', ms: 20 },
    imp: { mode: 'manual' },
  });
  assert.throws(() => transitionsFromJSON([]), /expected an object/);
  assert.throws(() => transitionsFromJSON({ box: 3 }), /invalid transition 3/);
  assert.throws(() => transitionsFromJSON({ box: { mode: 'delay' } }), /"ms" must be/);
  assert.throws(() => transitionsFromJSON({ box: { mode: 'later' } }), /invalid transition/);
});

test('loadTransitionsFile reads {"transitions": {...}} and reports bad files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockade-transitions-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ transitions: { box: 'delay:3000', export: 'immediate', import: 'manual' } }));
    assert.deepEqual(loadTransitionsFile(good), {
      box: { mode: 'delay', ms: 3000 },
      export: { mode: 'immediate' },
      import: { mode: 'manual' },
    });
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ transitions: ');
    assert.throws(() => loadTransitionsFile(notJson), /invalid JSON in transitions file .*bad\.json/);
    const noKey = join(dir, 'nokey.json');
    writeFileSync(noKey, '{"box": "immediate"}');
    assert.throws(() => loadTransitionsFile(noKey), /expected \{"transitions"/);
    const badValue = join(dir, 'badvalue.json');
    writeFileSync(badValue, '{"transitions": {"box": "sometime"}}');
    assert.throws(() => loadTransitionsFile(badValue), /badvalue\.json: transitions\.box/);
    assert.throws(() => loadTransitionsFile(join(dir, 'missing.json')), /cannot read transitions file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
