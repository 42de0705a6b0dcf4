import { sql, type CommonQueryMethods } from "@money/db";

export interface PairingCode {
  id: string;
  merchantId: string;
  storeId: string;
  deviceLabel: string;
  expiresAt: Date;
  usedAt: Date | null;
}

interface PairingCodeRow {
  id: string;
  merchant_id: string;
  store_id: string;
  device_label: string;
  expires_at: Date;
  used_at: Date | null;
}

export async function insertPairingCode(
  db: CommonQueryMethods,
  code: Omit<PairingCode, "usedAt"> & { codeHash: Buffer; createdBy: string },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO pairing_codes (id, code_hash, merchant_id, store_id, device_label, created_by, expires_at)
    VALUES (${code.id}, ${sql.binary(code.codeHash)}, ${code.merchantId}, ${code.storeId}, ${code.deviceLabel},
            ${code.createdBy}, ${sql.timestamp(code.expiresAt)})
  `);
}

/** The code's row, locked: two devices racing with one code pair one device. */
export async function lockPairingCode(db: CommonQueryMethods, codeHash: Buffer): Promise<PairingCode | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT id, merchant_id, store_id, device_label, expires_at, used_at
    FROM pairing_codes WHERE code_hash = ${sql.binary(codeHash)} FOR UPDATE
  `);
  if (!row) return null;
  const r = row as unknown as PairingCodeRow;
  return {
    id: r.id,
    merchantId: r.merchant_id,
    storeId: r.store_id,
    deviceLabel: r.device_label,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  };
}

export async function markPairingCodeUsed(
  db: CommonQueryMethods,
  id: string,
  deviceId: string,
  at: Date,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE pairing_codes SET used_at = ${sql.timestamp(at)}, device_id = ${deviceId} WHERE id = ${id}
  `);
}
