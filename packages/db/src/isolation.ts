/** Postgres's transaction isolation levels, as its SQL spells them. */
export type Isolation = "read committed" | "repeatable read" | "serializable";
