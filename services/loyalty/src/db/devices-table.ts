import { sql, type CommonQueryMethods } from "@money/db";
import type { Device, DeviceInStore } from "../domain/devices/device.js";
import { toStore } from "./stores-table.js";

interface DeviceRow {
  id: string;
  merchant_id: string;
  store_id: string;
  label: string;
  paired_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    storeId: row.store_id,
    label: row.label,
    pairedAt: row.paired_at,
    revokedAt: row.revoked_at,
    revokeReason: row.revoke_reason,
  };
}

export async function insertDevice(
  db: CommonQueryMethods,
  device: { id: string; merchantId: string; storeId: string; label: string; pairedAt: Date },
): Promise<Device> {
  const row = await db.one(sql.unsafe`
    INSERT INTO devices (id, merchant_id, store_id, label, paired_at)
    VALUES (${device.id}, ${device.merchantId}, ${device.storeId}, ${device.label}, ${sql.timestamp(device.pairedAt)})
    RETURNING *
  `);
  return toDevice(row as unknown as DeviceRow);
}

export async function findDevice(db: CommonQueryMethods, id: string): Promise<Device | null> {
  const row = await db.maybeOne(sql.unsafe`SELECT * FROM devices WHERE id = ${id}`);
  return row ? toDevice(row as unknown as DeviceRow) : null;
}

/** The device with its store, in one round trip: every terminal call reads it. */
export async function findDeviceInStore(db: CommonQueryMethods, id: string): Promise<DeviceInStore | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT d.id, d.merchant_id, d.store_id, d.label, d.paired_at, d.revoked_at, d.revoke_reason,
           s.name AS store_name, s.time_zone, s.points_per_unit_override, s.created_at AS store_created_at
    FROM devices d JOIN stores s ON s.id = d.store_id
    WHERE d.id = ${id}
  `);
  if (!row) return null;
  const r = row as unknown as DeviceRow & {
    store_name: string;
    time_zone: string;
    points_per_unit_override: string | null;
    store_created_at: Date;
  };
  return {
    device: toDevice(r),
    store: toStore({
      id: r.store_id,
      merchant_id: r.merchant_id,
      name: r.store_name,
      time_zone: r.time_zone,
      points_per_unit_override: r.points_per_unit_override,
      created_at: r.store_created_at,
    }),
  };
}

export async function revokeDeviceRow(
  db: CommonQueryMethods,
  id: string,
  at: Date,
  reason: string,
): Promise<Device | null> {
  const row = await db.maybeOne(sql.unsafe`
    UPDATE devices SET revoked_at = ${sql.timestamp(at)}, revoke_reason = ${reason}
    WHERE id = ${id} AND revoked_at IS NULL
    RETURNING *
  `);
  return row ? toDevice(row as unknown as DeviceRow) : null;
}
