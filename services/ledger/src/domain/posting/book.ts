import type { CommitScope } from "@money/db";
import { lockAccounts } from "../../db/balances-table.js";
import type { Account } from "../accounts/account.js";
import type { BalanceFigures } from "../balances/balance.js";
import { LedgerError } from "../ledger-error.js";

export interface BookAccount {
  readonly account: Account;
  /** The balance as this database transaction has changed it so far. */
  readonly figures: BalanceFigures;
}

/**
 * The accounts one database transaction works on, locked (their balance rows,
 * FOR UPDATE, in id order so that two writers never wait on each other in a
 * cycle), with their balances as the transaction changes them. Use cases
 * validate against it and apply to it; the journal writes the touched rows
 * back in one statement.
 */
export class Book {
  private readonly touched = new Set<string>();

  private constructor(
    private readonly accounts: Map<string, BookAccount>,
    /** When the locks were all held: the posting time of everything this transaction writes. */
    readonly now: Date,
  ) {}

  /** Locks the balance rows of `ids` (unknown ids are simply absent). */
  static async lock(tx: CommitScope, ids: Iterable<string>): Promise<Book> {
    const { accounts, lockedAt } = await lockAccounts(tx, [...new Set(ids)]);
    return new Book(new Map(accounts.map((a) => [a.account.id, a])), lockedAt);
  }

  has(id: string): boolean {
    return this.accounts.has(id);
  }

  /** Errors: ACCOUNT_NOT_FOUND. */
  get(id: string): BookAccount {
    const found = this.accounts.get(id);
    if (!found) throw new LedgerError("ACCOUNT_NOT_FOUND", `no account ${id}`);
    return found;
  }

  /** Records the account's new balance (and version); written back when the journal commits. */
  set(id: string, figures: BalanceFigures): void {
    const current = this.get(id);
    this.accounts.set(id, { account: { ...current.account, version: figures.version }, figures });
    this.touched.add(id);
  }

  /** The accounts whose balance rows changed, in id order. */
  touchedAccounts(): BookAccount[] {
    return [...this.touched].sort().map((id) => this.get(id));
  }
}
