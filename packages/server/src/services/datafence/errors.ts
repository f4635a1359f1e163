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
  boxNotInUse: {
    'en-US': 'The box {boxId} is {status}; it can be changed only in USE.',
    'ko-KR': '박스 {boxId}이(가) {status} 상태입니다. USE 상태에서만 변경할 수 있습니다.',
    'zh-CN': '分析箱 {boxId} 的状态为 {status}；只有在 USE 状态下才能变更。',
  },
  fenceNotInUse: {
    'en-US': 'The Datafence {fenceId} is {status}; it can be changed only in USE.',
    'ko-KR': 'Datafence {fenceId}이(가) {status} 상태입니다. USE 상태에서만 변경할 수 있습니다.',
    'zh-CN': 'Datafence {fenceId} 的状态为 {status}；只有在 USE 状态下才能变更。',
  },
  serverCountOutOfRange: {
    'en-US': 'The number of {product} would be {count}; it must be between {min} and {max}.',
    'ko-KR': '{product} 개수가 {count}개가 됩니다. {min}~{max}개여야 합니다.',
    'zh-CN': '{product} 的数量将为 {count}；必须在 {min} 到 {max} 之间。',
  },
  noAnalysisServer: {
    'en-US': 'A box needs at least one Linux or Windows server.',
    'ko-KR': '박스에는 Linux 또는 Windows 서버가 하나 이상 있어야 합니다.',
    'zh-CN': '分析箱至少需要一台 Linux 或 Windows 服务器。',
  },
  nasCountOutOfRange: {
    'en-US': 'The number of NAS would be {count}; it must be between {min} and {max}.',
    'ko-KR': 'NAS 개수가 {count}개가 됩니다. {min}~{max}개여야 합니다.',
    'zh-CN': 'NAS 的数量将为 {count}；必须在 {min} 到 {max} 之间。',
  },
  hadoopClusterLimit: {
    'en-US': 'A box can have at most {max} Hadoop clusters (it would have {count}).',
    'ko-KR': '박스에는 Hadoop 클러스터를 최대 {max}개까지 만들 수 있습니다({count}개 요청).',
    'zh-CN': '一个分析箱最多可有 {max} 个 Hadoop 集群（将有 {count} 个）。',
  },
  serverNotFound: {
    'en-US': 'There is no {product} {instanceNo} here.',
    'ko-KR': '{product} {instanceNo}이(가) 존재하지 않습니다.',
    'zh-CN': '此处没有 {product} {instanceNo}。',
  },
  nasNotFound: {
    'en-US': 'There is no NAS {instanceNo} here.',
    'ko-KR': 'NAS {instanceNo}이(가) 존재하지 않습니다.',
    'zh-CN': '此处没有 NAS {instanceNo}。',
  },
  nasSizeBelowUsage: {
    'en-US': 'The NAS {instanceNo} stores {used} GB; it cannot be resized to {size} GB.',
    'ko-KR': 'NAS {instanceNo}에 {used}GB가 저장되어 있어 {size}GB로 변경할 수 없습니다.',
    'zh-CN': 'NAS {instanceNo} 已存储 {used} GB，无法调整为 {size} GB。',
  },
  boxNotFound: {
    'en-US': 'The box {boxId} does not exist in the Datafence {fenceId}.',
    'ko-KR': 'Datafence {fenceId}에 박스 {boxId}이(가) 존재하지 않습니다.',
    'zh-CN': 'Datafence {fenceId} 中不存在分析箱 {boxId}。',
  },
  unknownSpecCode: {
    'en-US': 'The spec code {specCode} is not a spec of {productCode} (see get-product-spec).',
    'ko-KR': '스펙 코드 {specCode}은(는) {productCode}의 스펙이 아닙니다(get-product-spec 참조).',
    'zh-CN': '规格代码 {specCode} 不是 {productCode} 的规格（见 get-product-spec）。',
  },
  unknownSoftwareCode: {
    'en-US': 'The software code {softwareCode} is not a software of {productCode} (see get-product-spec).',
    'ko-KR': '소프트웨어 코드 {softwareCode}은(는) {productCode}의 소프트웨어가 아닙니다(get-product-spec 참조).',
    'zh-CN': '软件代码 {softwareCode} 不是 {productCode} 的软件（见 get-product-spec）。',
  },
  bucketNotFound: {
    'en-US': 'The bucket {bucket} does not exist.',
    'ko-KR': '버킷 {bucket}이(가) 존재하지 않습니다.',
    'zh-CN': '存储桶 {bucket} 不存在。',
  },
  nasNotInBox: {
    'en-US': 'The NAS {instanceNo} is not a NAS in use of the box {boxId}.',
    'ko-KR': 'NAS {instanceNo}은(는) 박스 {boxId}에서 사용 중인 NAS가 아닙니다.',
    'zh-CN': 'NAS {instanceNo} 不是分析箱 {boxId} 正在使用的 NAS。',
  },
  fileTooLarge: {
    'en-US': 'The file {file} is {size} bytes; at most {max} bytes can be transferred.',
    'ko-KR': '파일 {file}의 크기는 {size}바이트입니다. 최대 {max}바이트까지 전송할 수 있습니다.',
    'zh-CN': '文件 {file} 为 {size} 字节；最多可传输 {max} 字节。',
  },
  extensionNotAllowed: {
    'en-US': 'The export policy of this Datafence does not allow the file {file} (allowed: {allowed}).',
    'ko-KR': '이 Datafence의 반출 정책은 파일 {file}을(를) 허용하지 않습니다(허용: {allowed}).',
    'zh-CN': '该 Datafence 的导出策略不允许文件 {file}（允许：{allowed}）。',
  },
  overPolicySize: {
    'en-US': 'The file {file} is {size} bytes; the export policy of this Datafence allows at most {max}.',
    'ko-KR': '파일 {file}의 크기는 {size}바이트입니다. 이 Datafence의 반출 정책은 최대 {max}바이트까지 허용합니다.',
    'zh-CN': '文件 {file} 为 {size} 字节；该 Datafence 的导出策略最多允许 {max} 字节。',
  },
  notReviewable: {
    'en-US': 'The export request {fileId} is {status}; this is not possible now.',
    'ko-KR': '반출 요청 {fileId}은(는) {status} 상태입니다. 지금은 할 수 없습니다.',
    'zh-CN': '导出申请 {fileId} 的状态为 {status}；现在无法执行此操作。',
  },
  fileNotFound: {
    'en-US': 'The file {file} does not exist.',
    'ko-KR': '파일 {file}이(가) 존재하지 않습니다.',
    'zh-CN': '文件 {file} 不存在。',
  },
  requestNotFound: {
    'en-US': 'There is no request {fileId} in the box {boxId}.',
    'ko-KR': '박스 {boxId}에 요청 {fileId}이(가) 없습니다.',
    'zh-CN': '分析箱 {boxId} 中没有申请 {fileId}。',
  },
  ownRequest: {
    'en-US': 'You made the export request {fileId}; another reviewer must decide on it.',
    'ko-KR': '반출 요청 {fileId}은(는) 본인이 요청한 것입니다. 다른 심사자가 결정해야 합니다.',
    'zh-CN': '导出申请 {fileId} 是您本人提交的；必须由其他审核人决定。',
  },
  alreadyVoted: {
    'en-US': 'You have already voted on the export request {fileId}.',
    'ko-KR': '반출 요청 {fileId}에 이미 투표했습니다.',
    'zh-CN': '您已对导出申请 {fileId} 投过票。',
  },
  notImplemented: 'The operation is not implemented by this server.',
});
