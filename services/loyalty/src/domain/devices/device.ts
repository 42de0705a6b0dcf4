import type { Store } from "../stores/store.js";

/** A paired POS terminal: it belongs to one store and acts with a device token until revoked. */
export interface Device {
  id: string;
  merchantId: string;
  storeId: string;
  label: string;
  pairedAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

/** An active device and the store it posts for. */
export interface DeviceInStore {
  device: Device;
  store: Store;
}
