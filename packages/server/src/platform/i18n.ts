/**
 * Languages of the NCP services, selected by `x-ncp-lang` (en-US default, ko-KR, zh-CN), and the
 * shape of a localised text. Each service keeps its own texts (messages, `statusName`) with it;
 * the gateway keeps the texts of the failures it raises itself (gateway/i18n.ts).
 */
export type Lang = 'en-US' | 'ko-KR' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en-US', 'ko-KR', 'zh-CN'];

/** One text in every language. */
export type Texts = Record<Lang, string>;

export function parseLang(header: string | undefined): Lang {
  if (!header) return 'en-US';
  const h = header.trim().toLowerCase();
  if (h.startsWith('ko')) return 'ko-KR';
  if (h.startsWith('zh')) return 'zh-CN';
  return 'en-US';
}

export type TextParams = Record<string, string | number>;

/** The text in `lang` with its `{name}` placeholders filled from `params` (unknown ones stay). */
export function format(texts: Texts, lang: Lang, params: TextParams = {}): string {
  return texts[lang].replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
