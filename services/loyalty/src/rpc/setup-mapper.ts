import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DeviceSchema,
  StaffMemberSchema,
  StoreSchema,
  type Device as DeviceMessage,
  type StaffMember as StaffMemberMessage,
  type Store as StoreMessage,
} from "@money/proto/loyalty/v1/loyalty_pb";
import type { Device } from "../domain/devices/device.js";
import type { StaffMember } from "../domain/staff/staff-member.js";
import type { Store } from "../domain/stores/store.js";

export function storeToWire(store: Store): StoreMessage {
  return create(StoreSchema, {
    id: store.id,
    merchantId: store.merchantId,
    name: store.name,
    timeZone: store.timeZone,
    pointsPerUnitOverride: store.pointsPerUnitOverride ?? "",
    createdAt: timestampFromDate(store.createdAt),
  });
}

/** Never the PIN's hash: only whether and until when it is locked. */
export function staffToWire(staff: StaffMember, at: Date): StaffMemberMessage {
  return create(StaffMemberSchema, {
    id: staff.id,
    merchantId: staff.merchantId,
    displayName: staff.displayName,
    ...(staff.pinLockedUntil && staff.pinLockedUntil > at
      ? { pinLockedUntil: timestampFromDate(staff.pinLockedUntil) }
      : {}),
  });
}

export function deviceToWire(device: Device): DeviceMessage {
  return create(DeviceSchema, {
    id: device.id,
    merchantId: device.merchantId,
    storeId: device.storeId,
    label: device.label,
    revoked: device.revokedAt !== null,
    pairedAt: timestampFromDate(device.pairedAt),
  });
}
