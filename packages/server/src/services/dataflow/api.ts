/** Data Flow's interface for the rest of Stockade (the CLI's `connections` command). */
export interface ConnectionInfo {
  connectionId: string;
  accountId: string;
  type: 'postgresql' | 'mysql';
  /** The URL without its password. */
  url: string;
  createdAt: number;
}

export interface CatalogTableVersion {
  database: string;
  table: string;
  schemaVersion: string;
  fieldList: Array<{ name: string; type: string }>;
  /** Where the table's data is: `{bucket}/catalog/{database}/{table}/` (Parquet). */
  location: string;
}

export interface DataflowApi {
  /**
   * Adds a schema version to a table of the account's built-in Data Catalog (creating the table):
   * versions are "1", "2", … in order. Field types are the 21 Data Flow types.
   */
  addCatalogVersion(accountId: string, t: { database: string; table: string; fieldList: Array<{ name: string; type: string }> }): Promise<CatalogTableVersion>;
  listCatalog(accountId: string): Promise<CatalogTableVersion[]>;
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
