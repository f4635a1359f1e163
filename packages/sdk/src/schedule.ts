/**
 * When a Data Flow trigger is due (dataflow.md §1.6). Schedules are structured, never cron, and
 * read on the KST wall clock (UTC+9; Korea has no daylight saving time, so a fixed offset is exact):
 *
 * | rule                                   | due                                                   |
 * |----------------------------------------|-------------------------------------------------------|
 * | RECURRING HOUR `time: "MM"`            | every hour at minute MM                               |
 * | RECURRING DAY `time: "HH:mm"`          | every day at HH:mm                                    |
 * | RECURRING WEEK `dayOfWeek[]`, `time`   | on each listed weekday at HH:mm                       |
 * | RECURRING MONTH `dateOfMonth`, `time`  | that day of each month at HH:mm; `-1` the last day;   |
 * |                                        | a month without that day is skipped (inferred: the    |
 * |                                        | spec is silent; skipping, not clamping, keeps "the    |
 * |                                        | 31st" meaning the 31st)                               |
 * | ONE_TIME `executionDate`               | once, at that KST date-time                           |
 * | NONE                                   | never by itself (executeWorkflow starts it)           |
 *
 * Everything here is pure (no Node imports): times are epoch milliseconds, and the caller brings
 * the clock. It lives in the SDK so the server (scheduler) and the web console (next due time)
 * share one implementation.
 */

const KST_OFFSET_MS = 9 * 3600_000;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

export const WEEKDAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A trigger rule as the wire carries it (`triggerRule`). */
export interface ScheduleRule {
  type: string;
  interval?: string;
  time?: string;
  dayOfWeek?: string[];
  dateOfMonth?: string;
  executionDate?: string;
}

/** A rule checked and reduced to what the schedule needs. */
export type Schedule =
  | { kind: 'hourly'; minute: number }
  | { kind: 'daily'; minuteOfDay: number }
  | { kind: 'weekly'; minuteOfDay: number; days: ReadonlySet<number> }
  | { kind: 'monthly'; minuteOfDay: number; date: number }
  | { kind: 'once'; at: number }
  | { kind: 'never' };

/** The problem with a rule: the field it names and why. */
export interface RuleProblem {
  field: string;
  reason: string;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MM = /^[0-5]\d$/;
// `YYYY-MM-DDTHH:mm[:ss[.SSS]][+09:00|Z]` (dataflow.md §3.3; without an offset it is KST).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Parses a wire date-time; without an offset it is read as KST. `null` when it is not one. */
export function parseKstDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo - 1) || h > 23 || mi > 59 || s > 59) return null;
  const zone = m[7];
  const offsetMs = zone === undefined ? KST_OFFSET_MS : zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return Date.UTC(y, mo - 1, d, h, mi, s) - offsetMs;
}

/** Checks a `triggerRule` and reduces it to a schedule, or names what is wrong. */
export function parseRule(rule: ScheduleRule): Schedule | RuleProblem {
  const minuteOfDay = (): number | RuleProblem => {
    const m = HH_MM.exec(rule.time ?? '');
    return m ? Number(m[1]) * 60 + Number(m[2]) : { field: 'triggerRule.time', reason: 'must be "HH:mm" (00:00–23:59)' };
  };
  switch (rule.type) {
    case 'NONE':
      return { kind: 'never' };
    case 'ONE_TIME': {
      const at = rule.executionDate === undefined ? null : parseKstDateTime(rule.executionDate);
      return at === null ? { field: 'triggerRule.executionDate', reason: 'must be a date-time "YYYY-MM-DDTHH:mm[:ss]" (KST)' } : { kind: 'once', at };
    }
    case 'RECURRING':
      switch (rule.interval) {
        case 'HOUR':
          return MM.test(rule.time ?? '') ? { kind: 'hourly', minute: Number(rule.time) } : { field: 'triggerRule.time', reason: 'must be a minute "00"–"59" for HOUR' };
        case 'DAY': {
          const t = minuteOfDay();
          return typeof t === 'number' ? { kind: 'daily', minuteOfDay: t } : t;
        }
        case 'WEEK': {
          const t = minuteOfDay();
          if (typeof t !== 'number') return t;
          const days = rule.dayOfWeek ?? [];
          const bad = days.find((d) => !(WEEKDAYS as readonly string[]).includes(d));
          if (days.length === 0 || bad !== undefined) {
            return { field: 'triggerRule.dayOfWeek', reason: bad === undefined ? 'must name at least one day for WEEK' : `unknown day ${JSON.stringify(bad)}` };
          }
          return { kind: 'weekly', minuteOfDay: t, days: new Set(days.map((d) => (WEEKDAYS as readonly string[]).indexOf(d))) };
        }
        case 'MONTH': {
          const t = minuteOfDay();
          if (typeof t !== 'number') return t;
          const date = /^(-1|[1-9]|[12]\d|3[01])$/.test(rule.dateOfMonth ?? '') ? Number(rule.dateOfMonth) : null;
          return date === null ? { field: 'triggerRule.dateOfMonth', reason: 'must be "1"–"31" or "-1" (the last day)' } : { kind: 'monthly', minuteOfDay: t, date };
        }
        default:
          return { field: 'triggerRule.interval', reason: 'must be HOUR, DAY, WEEK or MONTH for RECURRING' };
      }
    default:
      return { field: 'triggerRule.type', reason: 'must be RECURRING, ONE_TIME or NONE' };
  }
}

export function isProblem(s: Schedule | RuleProblem): s is RuleProblem {
  return 'field' in s;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Does the schedule fire on the KST calendar day that starts at `dayStart` (KST midnight, as a UTC-shifted epoch)? */
function firesOn(s: Schedule, shiftedDayStart: number): boolean {
  const d = new Date(shiftedDayStart);
  switch (s.kind) {
    case 'daily':
      return true;
    case 'weekly':
      return s.days.has(d.getUTCDay());
    case 'monthly': {
      const last = daysInMonth(d.getUTCFullYear(), d.getUTCMonth());
      return s.date === -1 ? d.getUTCDate() === last : d.getUTCDate() === s.date;
    }
    default:
      return false;
  }
}

/** The first due time strictly after `after` (epoch ms), or `null` when there is none. */
export function nextDue(s: Schedule, after: number): number | null {
  switch (s.kind) {
    case 'never':
      return null;
    case 'once':
      return s.at > after ? s.at : null;
    case 'hourly': {
      const shifted = after + KST_OFFSET_MS;
      let due = shifted - (shifted % HOUR_MS) + s.minute * 60_000;
      if (due <= shifted) due += HOUR_MS;
      return due - KST_OFFSET_MS;
    }
    default: {
      const shifted = after + KST_OFFSET_MS;
      const today = shifted - (((shifted % DAY_MS) + DAY_MS) % DAY_MS);
      // The longest wait is a monthly rule for the 29th–31st skipping February (31 Jan → 31 Mar:
      // 59 days); a year bounds the walk with room to spare.
      for (let day = today; day <= today + 366 * DAY_MS; day += DAY_MS) {
        const due = day + s.minuteOfDay * 60_000;
        if (due > shifted && firesOn(s, day)) return due - KST_OFFSET_MS;
      }
      return null;
    }
  }
}

/** The due times in (`after`, `until`], oldest first, at most `limit` of them. */
export function dueBetween(s: Schedule, after: number, until: number, limit: number): number[] {
  const out: number[] = [];
  for (let t = nextDue(s, after); t !== null && t <= until && out.length < limit; t = nextDue(s, t)) out.push(t);
  return out;
}
