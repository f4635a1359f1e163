/**
 * Object Storage (S3 API). S3 operations are told apart by method and query flags, so they keep
 * their own routing table in the server (Object Storage issue); this list names them for the
 * coverage matrix only.
 */
export const S3_OPERATIONS = [
  'ListBuckets', 'CreateBucket', 'HeadBucket', 'DeleteBucket', 'GetBucketLocation',
  'PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'DeleteObjects', 'CopyObject',
  'ListObjectsV2', 'ListObjects',
  'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload',
  'AbortMultipartUpload', 'ListParts', 'ListMultipartUploads',
] as const;
export type S3OperationName = (typeof S3_OPERATIONS)[number];
