/** Wire time formats. NCP services answer in KST (UTC+9) ISO 8601 with an explicit offset. */
const KST_OFFSET_MS = 9 * 3600_000;

/** `2025-04-21T11:24:01+09:00` */
export function kstIso(ms: number): string {
  return new Date(ms + KST_OFFSET_MS).toISOString().slice(0, 19) + '+09:00';
}

/** `2025-04-21T11:24:01.000+09:00`, Data Flow's resource timestamps (ISO 8601 with the UTC+9 offset). */
export function kstIsoMillis(ms: number): string {
  return new Date(ms + KST_OFFSET_MS).toISOString().slice(0, 23) + '+09:00';
}
