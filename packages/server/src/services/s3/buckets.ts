/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
import { S3Error } from './auth.js';
import { accessDenied, intParam, invalidArgument, noSuchBucket, ownedBucket, readSmallBody, XML_TYPE, xmlReply, type S3Handler } from './common.js';
import { checkBucketName, isoDate, isValidBucketName } from './names.js';
import { esc, parseXml, S3_NS, textOf, XML_DECL, type XmlNode } from './xml.js';

/** The region buckets are created in when the request names none. */
export const DEFAULT_REGION = 'us-east-1';

export const owner = (accountId: string): XmlNode => ({ ID: accountId, DisplayName: accountId });

export const listBuckets: S3Handler = async (call) => {
  const accountId = call.identity.accountId;
  const prefix = call.query.get('prefix') ?? '';
  const max = call.query.has('max-buckets') ? intParam(call, 'max-buckets', 10_000, 10_000) : undefined;
  if (max === 0) throw invalidArgument('Argument max-buckets must be an integer between 1 and 10000', 'max-buckets', '0');
  const token = call.query.get('continuation-token');
  let after: string | undefined;
  if (token !== undefined && token !== '') {
    // The token is the last bucket name of the previous page: anything else is refused, not
    // looked up (a NUL in it cannot even be a PostgreSQL parameter).
    const decoded = Buffer.from(token, 'base64url');
    after = decoded.toString('utf8');
    if (decoded.toString('base64url') !== token || !isValidBucketName(after)) {
      throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
    }
  }
  const rows = (await call.repo.listBuckets(accountId, { prefix, after })).filter((b) => b.name.startsWith(prefix));
  const page = max === undefined ? rows : rows.slice(0, max);
  const truncated = page.length < rows.length;
  const last = page[page.length - 1];
  return xmlReply('ListAllMyBucketsResult', {
    Owner: owner(accountId),
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: isoDate(b.created_at), BucketRegion: b.region })) },
    ContinuationToken: truncated && last ? Buffer.from(last.name).toString('base64url') : undefined,
    Prefix: call.query.has('prefix') ? prefix : undefined,
  });
};

export const createBucket: S3Handler = async (call) => {
  checkBucketName(call.bucket);
  let region = DEFAULT_REGION;
  const body = await readSmallBody(call, 64 * 1024);
  if (body.length > 0) {
    const doc = parseXml(body, 'CreateBucketConfiguration');
    const lc = textOf(doc, 'LocationConstraint');
    if (lc !== undefined && lc !== '') {
      if (!/^[a-z0-9-]{1,64}$/.test(lc)) {
        throw new S3Error(400, 'InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: lc });
      }
      region = lc;
    }
  }
  const r = await call.repo.createBucket({
    name: call.bucket,
    account_id: call.identity.accountId,
    region,
    created_at: call.app.clock.now(),
    sealed_fence_id: null,
  });
  if (r === 'ownedByYou') {
    throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', {
      BucketName: call.bucket,
    });
  }
  if (r === 'exists') {
    throw new S3Error(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', {
      BucketName: call.bucket,
    });
  }
  return { status: 200, headers: { location: `/${call.bucket}` } };
};

export const headBucket: S3Handler = async (call) => {
  const b = await call.repo.getBucket(call.bucket);
  if (!b) throw noSuchBucket(call.bucket);
  if (b.account_id !== call.identity.accountId) throw accessDenied();
  return { status: 200, headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' } };
};

export const deleteBucket: S3Handler = async (call) => {
  await ownedBucket(call);
  const r = await call.repo.deleteBucket(call.bucket);
  if (r === 'missing') throw noSuchBucket(call.bucket);
  if (r === 'notEmpty') {
    throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: call.bucket });
  }
  await call.content.discard(r);
  return { status: 204, headers: {} };
};

export const getBucketLocation: S3Handler = async (call) => {
  const b = await ownedBucket(call);
  // us-east-1 answers an empty LocationConstraint, as S3 does.
  const region = b.region === DEFAULT_REGION ? '' : esc(b.region);
  return {
    status: 200,
    headers: { 'content-type': XML_TYPE },
    body: `${XML_DECL}<LocationConstraint xmlns="${S3_NS}">${region}</LocationConstraint>`,
  };
};
