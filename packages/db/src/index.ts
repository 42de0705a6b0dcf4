export { createDatabasePool, type PoolOptions } from "./pool.js";
export {
  afterCommit,
  inTransaction,
  isRetryableConflict,
  type Isolation,
  type TransactionOptions,
} from "./transaction.js";
export { provisionServiceDatabase, withUser, type ServiceDatabase } from "./provision.js";
export { sql, type DatabasePool, type DatabaseTransactionConnection, type CommonQueryMethods } from "slonik";
