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

/** `statusName` of import requests (§1.3): English and Korean as documented, Chinese ours. */
export const IMPORT_STATUS: Record<string, Texts> = {
  INITIALIZED: { 'en-US': 'Import requested (before file transfer)', 'ko-KR': '반입요청(파일 전송전)', 'zh-CN': '已申请导入（文件传输前）' },
  UPLOADING: { 'en-US': 'Import requested (file transfer in progress)', 'ko-KR': '반입요청(파일 전송중)', 'zh-CN': '已申请导入（文件传输中）' },
  IMPORTED: { 'en-US': 'Import completed', 'ko-KR': '반입완료', 'zh-CN': '导入完成' },
  ERROR_FILE: { 'en-US': 'Error (file)', 'ko-KR': '오류(파일)', 'zh-CN': '错误（文件）' },
  ERROR_SECURITY: { 'en-US': 'Error (security check)', 'ko-KR': '오류(보안체크)', 'zh-CN': '错误（安全检查）' },
  ERROR_SYSTEM: { 'en-US': 'Error (system error)', 'ko-KR': '오류(시스템 오류)', 'zh-CN': '错误（系统错误）' },
};

/** `statusName` of export requests and reviews (§1.4). */
export const EXPORT_STATUS: Record<string, Texts> = {
  INITIALIZED: { 'en-US': 'Review requested (before file transfer)', 'ko-KR': '심사요청(파일 전송전)', 'zh-CN': '已申请审核（文件传输前）' },
  UPLOADING: { 'en-US': 'Review requested (file transfer in progress)', 'ko-KR': '심사요청(파일 전송중)', 'zh-CN': '已申请审核（文件传输中）' },
  UPLOADED: { 'en-US': 'Review requested (file transfer completed)', 'ko-KR': '심사요청(파일 전송완료)', 'zh-CN': '已申请审核（文件传输完成）' },
  APPROVED: { 'en-US': 'Approved (before saving to bucket)', 'ko-KR': '승인(버킷 저장전)', 'zh-CN': '已批准（保存到存储桶前）' },
  EXPORTING: { 'en-US': 'Approved (saving to bucket in progress)', 'ko-KR': '승인(버킷 저장중)', 'zh-CN': '已批准（正在保存到存储桶）' },
  EXPORTED: { 'en-US': 'Approved (saving to bucket completed)', 'ko-KR': '승인(버킷 저장완료)', 'zh-CN': '已批准（已保存到存储桶）' },
  REJECTED: { 'en-US': 'Rejected', 'ko-KR': '반려', 'zh-CN': '已驳回' },
  ERROR_FILE: IMPORT_STATUS.ERROR_FILE!,
  ERROR_SYSTEM: IMPORT_STATUS.ERROR_SYSTEM!,
};

export const importStatusName = (lang: Lang, code: string): string => IMPORT_STATUS[code]?.[lang] ?? code;
export const exportStatusName = (lang: Lang, code: string): string => EXPORT_STATUS[code]?.[lang] ?? code;

/**
 * `infraType` of the infra histories: display words, not product codes (datafence.md §4.1 #3,
 * §4.3 #12). "Server", "NAS" and "Connect Server" are documented; the others follow them. A box's
 * own transitions appear in its infra history as "Box".
 */
export const HISTORY_INFRA_TYPE: Record<string, string> = {
  FENCE_UBUNTU: 'Server',
  FENCE_NAS: 'NAS',
  CON: 'Connect Server',
  SVR_LNX_UBUNTU: 'Linux Server',
  SVR_WIN: 'Windows Server',
  TF_CPU: 'TensorFlow Server (CPU)',
  TF_GPU: 'TensorFlow Server (GPU)',
  HD: 'Hadoop Cluster',
  BOX_NAS: 'NAS',
  BOX: 'Box',
};

/** What the server and cluster info operations call the storage they list (§4.3 #16). */
export const STORAGE_NAMES: Record<'nas' | 'block', Texts> = {
  nas: { 'en-US': 'NAS for export requests', 'ko-KR': '반출신청용 NAS', 'zh-CN': '导出申请用 NAS' },
  block: { 'en-US': 'Block storage for work files', 'ko-KR': '작업파일저장용 블록스토리지', 'zh-CN': '工作文件存储用块存储' },
};

/** Names of products in error messages. */
export const PRODUCT_NAMES: Record<string, string> = {
  FENCE_UBUNTU: 'Datafence servers',
  FENCE_NAS: 'Datafence NAS',
  CON: 'connect servers',
  SVR_LNX_UBUNTU: 'Linux servers',
  SVR_WIN: 'Windows servers',
  TF_CPU: 'TensorFlow CPU servers',
  TF_GPU: 'TensorFlow GPU servers',
  HD: 'Hadoop clusters',
  HD_WORKER: 'Hadoop worker nodes',
  BOX_NAS: 'box NAS',
};
