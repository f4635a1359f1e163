import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueBetween, isProblem, nextDue, parseKstDateTime, parseRule, type Schedule, type ScheduleRule as TriggerRule } from '@stockade/sdk';

/** A KST wall-clock time as epoch ms. */
const kst = (text: string) => {
  const t = parseKstDateTime(text);
  assert.ok(t !== null, text);
  return t;
};
/** Epoch ms as KST wall-clock text, to compare lists readably. */
const wall = (ms: number) => new Date(ms + 9 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');

function schedule(rule: TriggerRule): Schedule {
  const s = parseRule(rule);
  assert.ok(!isProblem(s), JSON.stringify(s));
  return s;
}

const due = (rule: TriggerRule, after: string, until: string, limit = 50) => dueBetween(schedule(rule), kst(after), kst(until), limit).map(wall);

test('date-times without an offset are KST; Z and other offsets are honoured; impossible dates are refused', () => {
  assert.equal(parseKstDateTime('2025-04-21T10:00'), Date.UTC(2025, 3, 21, 1, 0));
  assert.equal(parseKstDateTime('2025-04-21T10:00:30+09:00'), Date.UTC(2025, 3, 21, 1, 0, 30));
  assert.equal(parseKstDateTime('2025-04-21T01:00:00.000Z'), Date.UTC(2025, 3, 21, 1, 0));
  assert.equal(parseKstDateTime('2025-04-21T01:00:00-02:00'), Date.UTC(2025, 3, 21, 3, 0));
  for (const bad of ['2025-02-29T10:00', '2025-13-01T00:00', '2025-04-21T24:00', '2025-04-21', 'tomorrow', '2025-04-21T10:00+9']) {
    assert.equal(parseKstDateTime(bad), null, bad);
  }
  assert.equal(parseKstDateTime('2028-02-29T10:00'), Date.UTC(2028, 1, 29, 1, 0), 'a leap day exists in 2028');
});

test('HOUR fires every hour at its minute, across a KST midnight that is 15:00 UTC', () => {
  assert.deepEqual(due({ type: 'RECURRING', interval: 'HOUR', time: '05' }, '2025-12-31T22:05', '2026-01-01T01:30'), [
    '2025-12-31 23:05',
    '2026-01-01 00:05',
    '2026-01-01 01:05',
  ]);
});

test('DAY fires once a day at HH:mm; a due time equal to "after" is not due again', () => {
  assert.deepEqual(due({ type: 'RECURRING', interval: 'DAY', time: '10:00' }, '2025-04-21T10:00', '2025-04-24T09:59'), ['2025-04-22 10:00', '2025-04-23 10:00']);
  assert.deepEqual(due({ type: 'RECURRING', interval: 'DAY', time: '00:00' }, '2025-12-30T12:00', '2026-01-02T00:00'), [
    '2025-12-31 00:00',
    '2026-01-01 00:00',
    '2026-01-02 00:00',
  ]);
});

test('WEEK fires on each listed weekday, in KST (a Monday 08:00 KST is a Sunday in UTC)', () => {
  // 2025-04-21 is a Monday.
  assert.deepEqual(due({ type: 'RECURRING', interval: 'WEEK', time: '08:00', dayOfWeek: ['MONDAY', 'FRIDAY'] }, '2025-04-20T00:00', '2025-05-02T23:59'), [
    '2025-04-21 08:00',
    '2025-04-25 08:00',
    '2025-04-28 08:00',
    '2025-05-02 08:00',
  ]);
});

test('MONTH on the 31st skips months without one; -1 is the last day, leap years included', () => {
  const month31 = { type: 'RECURRING', interval: 'MONTH', time: '09:30', dateOfMonth: '31' };
  assert.deepEqual(due(month31, '2025-01-01T00:00', '2025-12-31T23:59'), [
    '2025-01-31 09:30',
    '2025-03-31 09:30',
    '2025-05-31 09:30',
    '2025-07-31 09:30',
    '2025-08-31 09:30',
    '2025-10-31 09:30',
    '2025-12-31 09:30',
  ]);
  const last = { type: 'RECURRING', interval: 'MONTH', time: '23:59', dateOfMonth: '-1' };
  assert.deepEqual(due(last, '2027-12-01T00:00', '2028-04-01T00:00'), ['2027-12-31 23:59', '2028-01-31 23:59', '2028-02-29 23:59', '2028-03-31 23:59']);
  const the29th = { type: 'RECURRING', interval: 'MONTH', time: '00:00', dateOfMonth: '29' };
  assert.deepEqual(due(the29th, '2027-01-30T00:00', '2028-03-01T00:00', 3), ['2027-03-29 00:00', '2027-04-29 00:00', '2027-05-29 00:00']);
  assert.deepEqual(due(the29th, '2028-02-01T00:00', '2028-03-01T00:00'), ['2028-02-29 00:00'], 'February 29 in a leap year');
  assert.deepEqual(due(the29th, '2027-02-01T00:00', '2027-03-01T00:00'), [], 'none in February 2027');
});

test('ONE_TIME fires once at its date; NONE never fires by itself', () => {
  const once = schedule({ type: 'ONE_TIME', executionDate: '2026-01-01T00:00:00' });
  assert.equal(nextDue(once, kst('2025-12-31T23:59')), kst('2026-01-01T00:00'));
  assert.equal(nextDue(once, kst('2026-01-01T00:00')), null);
  assert.equal(nextDue(schedule({ type: 'NONE' }), 0), null);
});

test('a bad rule names the field that is wrong', () => {
  const problems: Array<[TriggerRule, string]> = [
    [{ type: 'SOMETIMES' }, 'triggerRule.type'],
    [{ type: 'RECURRING' }, 'triggerRule.interval'],
    [{ type: 'RECURRING', interval: 'YEAR', time: '10:00' }, 'triggerRule.interval'],
    [{ type: 'RECURRING', interval: 'HOUR', time: '60' }, 'triggerRule.time'],
    [{ type: 'RECURRING', interval: 'HOUR', time: '10:00' }, 'triggerRule.time'],
    [{ type: 'RECURRING', interval: 'DAY', time: '24:00' }, 'triggerRule.time'],
    [{ type: 'RECURRING', interval: 'DAY' }, 'triggerRule.time'],
    [{ type: 'RECURRING', interval: 'WEEK', time: '10:00' }, 'triggerRule.dayOfWeek'],
    [{ type: 'RECURRING', interval: 'WEEK', time: '10:00', dayOfWeek: ['MONDAY', 'FUNDAY'] }, 'triggerRule.dayOfWeek'],
    [{ type: 'RECURRING', interval: 'MONTH', time: '10:00', dateOfMonth: '32' }, 'triggerRule.dateOfMonth'],
    [{ type: 'RECURRING', interval: 'MONTH', time: '10:00', dateOfMonth: '0' }, 'triggerRule.dateOfMonth'],
    [{ type: 'RECURRING', interval: 'MONTH', time: '10:00', dateOfMonth: '-2' }, 'triggerRule.dateOfMonth'],
    [{ type: 'ONE_TIME' }, 'triggerRule.executionDate'],
    [{ type: 'ONE_TIME', executionDate: '2025-02-30T10:00' }, 'triggerRule.executionDate'],
  ];
  for (const [rule, field] of problems) {
    const s = parseRule(rule);
    assert.ok(isProblem(s), JSON.stringify(rule));
    assert.equal(s.field, field, JSON.stringify(rule));
  }
});
