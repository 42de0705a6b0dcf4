export { createDatabasePool, defaultIsolationOf, type PoolOptions } from "./pool.js";
export type { Isolation } from "./isolation.js";
export {
  afterCommit,
  inTransaction,
  isRetryableConflict,
  rowsIn,
  type CommitScope,
  type TransactionOptions,
} from "./transaction.js";
export {
  PipelinedConnections,
  type PipelinedConnectionsOptions,
  type PipelinedTransaction,
  type Row,
  type StatementOptions,
} from "./pipelined-connections.js";
export { provisionServiceDatabase, withUser, type ServiceDatabase } from "./provision.js";
export { sql, type DatabasePool, type DatabaseTransactionConnection, type CommonQueryMethods } from "slonik";
export { arrayParameter, unnestArrays, type ColumnType } from "./unnest-arrays.js";
