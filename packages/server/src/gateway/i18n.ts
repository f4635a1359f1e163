/**
 * Texts of the failures the gateway raises itself (authentication, routing, body, validation),
 * in each language of `x-ncp-lang`. Services keep their own texts with them.
 */
import type { Lang, Texts } from '../platform/i18n.js';

export { parseLang, LANGS, type Lang } from '../platform/i18n.js';

/** Messages of gateway and service errors. `{x}` placeholders are filled by `t`. */
const MESSAGES = {
  'auth.failed': { 'en-US': 'Authentication Failed', 'ko-KR': 'Authentication Failed', 'zh-CN': 'Authentication Failed' },
  'auth.missing': {
    'en-US': 'Authentication information are missing.',
    'ko-KR': '인증 정보가 없습니다.',
    'zh-CN': '缺少认证信息。',
  },
  'auth.timestamp': {
    'en-US': 'The request timestamp is invalid or differs from the server time by 5 minutes or more.',
    'ko-KR': '요청 타임스탬프가 올바르지 않거나 서버 시간과 5분 이상 차이가 납니다.',
    'zh-CN': '请求时间戳无效，或与服务器时间相差 5 分钟以上。',
  },
  'auth.unknownKey': {
    'en-US': 'The access key is unknown or disabled.',
    'ko-KR': '알 수 없거나 비활성화된 액세스 키입니다.',
    'zh-CN': '访问密钥不存在或已被禁用。',
  },
  'auth.signature': {
    'en-US': 'The signature does not match.',
    'ko-KR': '서명이 일치하지 않습니다.',
    'zh-CN': '签名不匹配。',
  },
  'permission.denied': { 'en-US': 'Permission Denied', 'ko-KR': 'Permission Denied', 'zh-CN': 'Permission Denied' },
  'permission.role': {
    'en-US': 'Your role ({role}) may not call {operation}.',
    'ko-KR': '현재 역할({role})로는 {operation}을(를) 호출할 수 없습니다.',
    'zh-CN': '您的角色（{role}）无权调用 {operation}。',
  },
  'route.notFound': { 'en-US': 'Not Found Exception', 'ko-KR': 'Not Found Exception', 'zh-CN': 'Not Found Exception' },
  'route.notFoundDetail': {
    'en-US': 'No API is mapped to {method} {path}.',
    'ko-KR': '{method} {path}에 매핑된 API가 없습니다.',
    'zh-CN': '没有映射到 {method} {path} 的 API。',
  },
  'body.tooLarge': { 'en-US': 'Request Entity Too Large', 'ko-KR': 'Request Entity Too Large', 'zh-CN': 'Request Entity Too Large' },
  'body.tooLargeDetail': {
    'en-US': 'The request body exceeds {limit} bytes.',
    'ko-KR': '요청 본문이 {limit}바이트를 초과합니다.',
    'zh-CN': '请求正文超过 {limit} 字节。',
  },
  'unexpected': { 'en-US': 'Unexpected Error', 'ko-KR': 'Unexpected Error', 'zh-CN': 'Unexpected Error' },
  'invalid.parameter': {
    'en-US': 'Invalid parameter.',
    'ko-KR': '잘못된 파라미터입니다.',
    'zh-CN': '参数无效。',
  },
  'invalid.encoding': { 'en-US': 'Bad Request Exception', 'ko-KR': 'Bad Request Exception', 'zh-CN': 'Bad Request Exception' },
  'invalid.encodingDetail': {
    'en-US': 'The request path is not valid percent-encoding of UTF-8.',
    'ko-KR': '요청 경로가 올바른 UTF-8 퍼센트 인코딩이 아닙니다.',
    'zh-CN': '请求路径不是有效的 UTF-8 百分号编码。',
  },
  'invalid.depth': {
    'en-US': 'The request body nests arrays and objects deeper than {depth} levels.',
    'ko-KR': '요청 본문의 배열과 객체 중첩이 {depth}단계를 넘습니다.',
    'zh-CN': '请求正文中数组和对象的嵌套超过 {depth} 层。',
  },
  'invalid.nul': {
    'en-US': '{field} must not contain the NUL character (U+0000).',
    'ko-KR': '{field}에는 NUL 문자(U+0000)를 넣을 수 없습니다.',
    'zh-CN': '{field} 不能包含 NUL 字符（U+0000）。',
  },
  'invalid.utf8': {
    'en-US': 'The request body is not UTF-8.',
    'ko-KR': '요청 본문이 UTF-8이 아닙니다.',
    'zh-CN': '请求正文不是 UTF-8 编码。',
  },
  'invalid.json': {
    'en-US': 'The request body is not valid JSON.',
    'ko-KR': '요청 본문이 올바른 JSON이 아닙니다.',
    'zh-CN': '请求正文不是有效的 JSON。',
  },
  'invalid.contentType': {
    'en-US': 'The request body must be sent as application/json.',
    'ko-KR': '요청 본문은 application/json으로 보내야 합니다.',
    'zh-CN': '请求正文必须以 application/json 发送。',
  },
  'not.implemented': {
    'en-US': 'The operation {operation} is not implemented by this server.',
    'ko-KR': '이 서버는 {operation} 작업을 아직 구현하지 않았습니다.',
    'zh-CN': '此服务器尚未实现操作 {operation}。',
  },
} satisfies Record<string, Texts>;

export type MessageKey = keyof typeof MESSAGES;

export function t(lang: Lang, key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = MESSAGES[key][lang];
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
