// audit-keygen: a new checkpoint signing key for the audit log.
//
//   npx tsx services/audit/src/cli/audit-keygen.ts [origin]
//
// Prints the signer key (AUDIT_SIGNING_KEY, a secret: keep it in the secret store) and the verifier
// key (publish it; auditors pin it and pass it to audit-verify --key). The key's name is the log's
// origin, by the signed-note convention.

import { encodeSignerKey, generateCheckpointKeyPair } from "../domain/checkpoint/index.js";

const origin = process.argv[2] ?? "money-platform.local/audit";
const { signer, verifierKey } = generateCheckpointKeyPair(origin);
console.log(`AUDIT_SIGNING_KEY=${encodeSignerKey(signer)}`);
console.log(`AUDIT_VERIFIER_KEY=${verifierKey}`);
