// Prints a development token: npm run mint-token -- --role admin --sub alice [--merchant m1] [--device d1] [--ttl 3600]
import { parseArgs } from "node:util";
import { ROLES, type Role } from "./caller.js";
import { mintToken } from "./token-verifier.js";

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "admin" },
    sub: { type: "string", default: "dev-user" },
    merchant: { type: "string" },
    device: { type: "string" },
    ttl: { type: "string", default: "3600" },
  },
});
if (!(ROLES as readonly string[]).includes(values.role)) {
  console.error(`--role must be one of ${ROLES.join(", ")}`);
  process.exit(2);
}
const token = await mintToken(
  { sub: values.sub, role: values.role as Role, merchantId: values.merchant, deviceId: values.device },
  {
    ttlSeconds: Number.parseInt(values.ttl, 10),
    ...(process.env["AUTH_JWT_SECRET"] ? { secret: process.env["AUTH_JWT_SECRET"] } : {}),
  },
);
console.log(token);
