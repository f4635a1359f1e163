// Minimal typing of the part of `@baiducloud/sdk` the tests use (the package ships no types).
declare module '@baiducloud/sdk' {
  export class Auth {
    constructor(ak: string, sk: string);
    generateAuthorization(
      method: string,
      resource: string,
      params: Record<string, string | null> | null,
      headers: Record<string, string | number>,
      timestamp?: number,
      expirationInSeconds?: number,
      headersToSign?: string[],
    ): string;
  }
}
