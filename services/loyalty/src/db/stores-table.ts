import { sql, type CommonQueryMethods } from "@money/db";
import type { Store } from "../domain/stores/store.js";
import { trimDecimal } from "./programs-table.js";

interface StoreRow {
  id: string;
  merchant_id: string;
  name: string;
  time_zone: string;
  points_per_unit_override: string | null;
  created_at: Date;
}

export function toStore(row: StoreRow): Store {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    name: row.name,
    timeZone: row.time_zone,
    pointsPerUnitOverride:
      row.points_per_unit_override === null ? null : trimDecimal(row.points_per_unit_override),
    createdAt: row.created_at,
  };
}

export async function insertStore(db: CommonQueryMethods, store: Omit<Store, "createdAt">): Promise<Store> {
  const row = await db.one(sql.unsafe`
    INSERT INTO stores (id, merchant_id, name, time_zone, points_per_unit_override)
    VALUES (${store.id}, ${store.merchantId}, ${store.name}, ${store.timeZone}, ${store.pointsPerUnitOverride})
    RETURNING *
  `);
  return toStore(row as unknown as StoreRow);
}

export async function findStore(db: CommonQueryMethods, id: string): Promise<Store | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM stores WHERE id = ${id}`);
  return row ? toStore(row as unknown as StoreRow) : null;
}
