/** Data Flow's interface for the rest of Stockade (the CLI's `connections` command). */
export interface ConnectionInfo {
  connectionId: string;
  accountId: string;
  type: 'postgresql' | 'mysql';
  /** The URL without its password. */
  url: string;
  createdAt: number;
}

export interface DataflowApi {
  /**
   * Registers a database connection for SOURCE_/TARGET_CDB_* nodes: `postgres(ql)://` for
   * `postgresql`, `mysql://` for `mysql`. The password is sealed; the URL is kept without it.
   */
  createConnection(accountId: string, c: { type: string; url: string }): Promise<ConnectionInfo>;
  listConnections(accountId: string): Promise<ConnectionInfo[]>;
}

declare module '../../context.js' {
  interface ServiceApis {
    dataflow: DataflowApi;
  }
}
