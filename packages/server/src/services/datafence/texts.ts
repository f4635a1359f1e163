/**
 * Datafence's localised texts: `statusName` of fences, boxes and infrastructure (§1.2) and error
 * messages. English status names follow datafence.md §1.2; Korean ones are the documented console
 * texts; Chinese ones are our translation (not documented).
 */
import type { Lang, Texts } from '../../platform/i18n.js';

export const RESOURCE_STATUS: Record<string, Texts> = {
  INITIALIZE: { 'en-US': 'Creating infrastructure', 'ko-KR': '인프라 생성중', 'zh-CN': '正在创建基础设施' },
  USE: { 'en-US': 'In use', 'ko-KR': '이용중', 'zh-CN': '使用中' },
  ING: { 'en-US': 'Changing', 'ko-KR': '변경 중', 'zh-CN': '变更中' },
  RETURN: { 'en-US': 'Terminating', 'ko-KR': '반납중', 'zh-CN': '正在退还' },
  TERMINATE: { 'en-US': 'Termination completed', 'ko-KR': '반납완료', 'zh-CN': '退还完成' },
};

export function statusName(lang: Lang, code: string): string {
  return RESOURCE_STATUS[code]?.[lang] ?? code;
}
