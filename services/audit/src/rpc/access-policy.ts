import type { AccessPolicy } from "@money/rpc";

/**
 * The trail is for auditors only, and each of their calls is itself audited.
 * Erasing personal data is a data-protection duty, not an audit one: admin.
 */
export const AUDIT_ACCESS: AccessPolicy = {
  GetEntry: ["auditor"],
  GetConsistencyProof: ["auditor"],
  GetLatestCheckpoint: ["auditor"],
  QueryEvents: ["auditor"],
  GetObjectHistory: ["auditor"],
  ExportBundle: ["auditor"],
  CheckCompleteness: ["auditor"],
  ErasePersonalData: ["admin"],
};
