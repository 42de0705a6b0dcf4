import type { CommonQueryMethods } from "@money/db";
import { findCard } from "../../db/cards-table.js";
import { findDevice } from "../../db/devices-table.js";
import { findStaffMember } from "../../db/staff-table.js";
import { findStore } from "../../db/stores-table.js";
import { listTransactions as selectPage, type TransactionSubject } from "../../db/transactions-table.js";
import { assertActsFor, merchantFor, type Acting } from "../acting.js";
import { requireId } from "../ids.js";
import { LoyaltyError } from "../loyalty-error.js";
import type { LoyaltyTransaction } from "../transactions/loyalty-transaction.js";

export interface ListTransactions {
  subject: TransactionSubject | null;
  from: Date | null;
  to: Date | null;
  /** 0 means 50. */
  pageSize: number;
  pageToken: string;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

/**
 * One page of the transactions of a card, store, merchant, device or staff
 * member, newest first, optionally within [from, to). The page token is
 * opaque to callers: it names the last row of the page, so rows posted
 * meanwhile never shift a page.
 *
 * Errors: INVALID_ARGUMENT (subject, range, page size or token),
 * CARD_NOT_FOUND, STORE_NOT_FOUND, DEVICE_NOT_FOUND, STAFF_NOT_FOUND, PERMISSION_DENIED.
 */
export async function listTransactions(
  db: CommonQueryMethods,
  query: ListTransactions,
  acting: Acting,
): Promise<{ transactions: LoyaltyTransaction[]; nextPageToken: string }> {
  if (!query.subject)
    throw new LoyaltyError("INVALID_ARGUMENT", "name a card, store, merchant, device or staff member");
  const pageSize = query.pageSize || DEFAULT_PAGE_SIZE;
  if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new LoyaltyError("INVALID_ARGUMENT", `page_size must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  if (query.from && query.to && query.from >= query.to)
    throw new LoyaltyError("INVALID_ARGUMENT", "from must be before to");
  const subject = await authorizeSubject(db, query.subject, acting);
  const page = await selectPage(db, {
    subject,
    from: query.from,
    to: query.to,
    after: query.pageToken ? decodePageToken(query.pageToken) : null,
    limit: pageSize + 1,
  });
  const transactions = page.transactions.slice(0, pageSize);
  const last = transactions.at(-1);
  const nextPageToken =
    page.transactions.length > pageSize && last
      ? encodePageToken(last.transactionAt, page.seqs[pageSize - 1]!)
      : "";
  return { transactions, nextPageToken };
}

async function authorizeSubject(
  db: CommonQueryMethods,
  subject: TransactionSubject,
  acting: Acting,
): Promise<TransactionSubject> {
  if ("merchantId" in subject) return { merchantId: merchantFor(acting, subject.merchantId) };
  if ("cardId" in subject) {
    const card = await findCard(db, requireId("card_id", subject.cardId));
    if (!card) throw new LoyaltyError("CARD_NOT_FOUND", `no card ${subject.cardId}`);
    assertActsFor(acting, card.merchantId);
    return { cardId: card.id };
  }
  if ("storeId" in subject) {
    const store = await findStore(db, requireId("store_id", subject.storeId));
    if (!store) throw new LoyaltyError("STORE_NOT_FOUND", `no store ${subject.storeId}`);
    assertActsFor(acting, store.merchantId);
    return { storeId: store.id };
  }
  if ("deviceId" in subject) {
    const device = await findDevice(db, requireId("device_id", subject.deviceId));
    if (!device) throw new LoyaltyError("DEVICE_NOT_FOUND", `no device ${subject.deviceId}`);
    assertActsFor(acting, device.merchantId);
    return { deviceId: device.id };
  }
  const staff = await findStaffMember(db, requireId("staff_id", subject.staffId));
  if (!staff) throw new LoyaltyError("STAFF_NOT_FOUND", `no staff member ${subject.staffId}`);
  assertActsFor(acting, staff.merchantId);
  return { staffId: staff.id };
}

function encodePageToken(transactionAt: Date, seq: bigint): string {
  return Buffer.from(`${transactionAt.toISOString()}|${seq}`, "utf8").toString("base64url");
}

function decodePageToken(token: string): { transactionAt: Date; seq: bigint } {
  const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|(\d{1,19})$/.exec(
    Buffer.from(token, "base64url").toString("utf8"),
  );
  const transactionAt = match ? new Date(match[1]!) : null;
  if (!match || !transactionAt || Number.isNaN(transactionAt.getTime())) {
    throw new LoyaltyError("INVALID_ARGUMENT", "page_token is not one this service issued");
  }
  return { transactionAt, seq: BigInt(match[2]!) };
}
