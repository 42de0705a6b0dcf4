import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { peerKey } from "@money/rpc";
import {
  ConfigureProgramRequestSchema,
  ConfigureProgramResponseSchema,
  CreatePairingCodeRequestSchema,
  CreatePairingCodeResponseSchema,
  CreateStaffMemberRequestSchema,
  CreateStaffMemberResponseSchema,
  CreateStoreRequestSchema,
  CreateStoreResponseSchema,
  GetProgramResponseSchema,
  PairDeviceRequestSchema,
  PairDeviceResponseSchema,
  RevokeDeviceRequestSchema,
  RevokeDeviceResponseSchema,
  UnlockStaffPinRequestSchema,
  UnlockStaffPinResponseSchema,
  type LoyaltyService,
} from "@money/proto/loyalty/v1/loyalty_pb";
import { createPairingCode } from "../domain/devices/create-pairing-code.js";
import { deviceToIssueTokenFor, pairDevice } from "../domain/devices/pair-device.js";
import { pairingCodeHash } from "../domain/devices/pairing-code.js";
import { revokeDevice } from "../domain/devices/revoke-device.js";
import { configureProgram } from "../domain/programs/configure-program.js";
import { getProgram } from "../domain/programs/get-program.js";
import { createStaffMember, prepareStaffPin } from "../domain/staff/create-staff-member.js";
import { unlockStaffPin } from "../domain/staff/unlock-staff-pin.js";
import { createStore } from "../domain/stores/create-store.js";
import type { HandlerDeps } from "./handler-deps.js";
import { idempotently } from "./idempotent.js";
import { configureProgramFromWire, programToWire } from "./program-mapper.js";
import { deviceToWire, staffToWire, storeToWire } from "./setup-mapper.js";

type SetupMethods =
  | "configureProgram"
  | "getProgram"
  | "createStore"
  | "createStaffMember"
  | "unlockStaffPin"
  | "createPairingCode"
  | "pairDevice"
  | "revokeDevice";

/** Programs, stores, staff and devices: the merchant's setup. */
export function setupHandlers({
  pool,
  deps,
  callers,
  deviceTokens,
}: HandlerDeps): Pick<ServiceImpl<typeof LoyaltyService>, SetupMethods> {
  return {
    async configureProgram(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = {
        requestSchema: ConfigureProgramRequestSchema,
        request: req,
        responseSchema: ConfigureProgramResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const program = await configureProgram(tx, deps, configureProgramFromWire(req), acting);
        return create(ConfigureProgramResponseSchema, { program: programToWire(program) });
      });
    },

    async getProgram(req, ctx) {
      const program = await getProgram(pool, req.merchantId, await callers.reader(ctx));
      return create(GetProgramResponseSchema, { program: programToWire(program) });
    },

    async createStore(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = {
        requestSchema: CreateStoreRequestSchema,
        request: req,
        responseSchema: CreateStoreResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const store = await createStore(tx, deps, req, acting);
        return create(CreateStoreResponseSchema, { store: storeToWire(store) });
      });
    },

    async createStaffMember(req, ctx) {
      const acting = await callers.reader(ctx);
      // Hashed once, before the transaction that may be retried.
      const pin = await prepareStaffPin(req.pin);
      const call = {
        requestSchema: CreateStaffMemberRequestSchema,
        request: { ...req, pin: "" },
        responseSchema: CreateStaffMemberResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const staff = await createStaffMember(tx, deps, req, pin, acting);
        return create(CreateStaffMemberResponseSchema, { staffMember: staffToWire(staff, deps.clock.now()) });
      });
    },

    async unlockStaffPin(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = {
        requestSchema: UnlockStaffPinRequestSchema,
        request: req,
        responseSchema: UnlockStaffPinResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const staff = await unlockStaffPin(tx, deps, req, acting);
        deps.pins.forget(staff.id);
        return create(UnlockStaffPinResponseSchema, { staffMember: staffToWire(staff, deps.clock.now()) });
      });
    },

    async createPairingCode(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = {
        requestSchema: CreatePairingCodeRequestSchema,
        request: req,
        responseSchema: CreatePairingCodeResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const issued = await createPairingCode(tx, deps, req, acting);
        return create(CreatePairingCodeResponseSchema, {
          pairingCode: issued.code,
          expiresAt: timestampFromDate(issued.expiresAt),
        });
      });
    },

    async pairDevice(req, ctx) {
      const peer = ctx.values.get(peerKey);
      // No token yet: the key is scoped to the code itself.
      const call = {
        requestSchema: PairDeviceRequestSchema,
        request: req,
        responseSchema: PairDeviceResponseSchema,
      };
      const paired = await idempotently(
        pool,
        ctx,
        pairingCodeHash(req.pairingCode).toString("hex"),
        call,
        async (tx) => {
          const device = await pairDevice(tx, deps, req.pairingCode, peer);
          return create(PairDeviceResponseSchema, { device: deviceToWire(device) });
        },
      );
      const now = deps.clock.now();
      const device = await deviceToIssueTokenFor(pool, paired.device!.id, now);
      const token = await deviceTokens.mint(device, now);
      return create(PairDeviceResponseSchema, {
        device: paired.device,
        deviceToken: token.token,
        deviceTokenExpiresAt: timestampFromDate(token.expiresAt),
      });
    },

    async revokeDevice(req, ctx) {
      const acting = await callers.reader(ctx);
      const call = {
        requestSchema: RevokeDeviceRequestSchema,
        request: req,
        responseSchema: RevokeDeviceResponseSchema,
      };
      return idempotently(pool, ctx, acting.actor.principalId, call, async (tx) => {
        const device = await revokeDevice(tx, deps, req, acting);
        return create(RevokeDeviceResponseSchema, { device: deviceToWire(device) });
      });
    },
  };
}
