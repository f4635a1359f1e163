/** Datafence's errors: factories from the operation table's catalogue, with their messages. */
import { DATAFENCE_ERRORS } from '@stockade/sdk';
import { defineErrors } from '../../platform/errors.js';

export const errors = defineErrors(DATAFENCE_ERRORS, {
  invalidParameter: { 'en-US': 'Invalid parameter.', 'ko-KR': '잘못된 파라미터입니다.', 'zh-CN': '参数无效。' },
  notOwner: {
    'en-US': 'You are not the owner of this Datafence or box.',
    'ko-KR': '해당 Datafence 또는 박스의 소유자가 아닙니다.',
    'zh-CN': '您不是该 Datafence 或分析箱的所有者。',
  },
  fenceNotFound: {
    'en-US': 'The Datafence {fenceId} does not exist.',
    'ko-KR': 'Datafence {fenceId}이(가) 존재하지 않습니다.',
    'zh-CN': 'Datafence {fenceId} 不存在。',
  },
  externalNetworkUnchanged: {
    'en-US': 'The external network setting is already {value}.',
    'ko-KR': '외부 네트워크 설정이 이미 {value}입니다.',
    'zh-CN': '外部网络设置已经是 {value}。',
  },
  serverRebooting: {
    'en-US': 'A server in the box is rebooting.',
    'ko-KR': '박스의 서버가 재부팅 중입니다.',
    'zh-CN': '分析箱中的服务器正在重启。',
  },
  boxLimitExceeded: {
    'en-US': 'The box creation limit of this Datafence ({limit}) is exceeded.',
    'ko-KR': '이 Datafence의 박스 생성 한도({limit})를 초과했습니다.',
    'zh-CN': '已超过该 Datafence 的分析箱创建上限（{limit}）。',
  },
  badState: {
    'en-US': 'The {resource} is {status}; the change is possible only in USE.',
    'ko-KR': '{resource}이(가) {status} 상태입니다. 변경은 USE 상태에서만 가능합니다.',
    'zh-CN': '{resource} 的状态为 {status}；只有在 USE 状态下才能变更。',
  },
  notImplemented: 'The operation is not implemented by this server.',
});
