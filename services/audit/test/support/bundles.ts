import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { AuditService, ExportBundleRequestSchema } from "@money/proto/audit/v1/audit_pb";

/** Exports a bundle through the RPC and returns the concatenated file. */
export async function exportBundle(
  client: Client<typeof AuditService>,
  request: MessageInitShape<typeof ExportBundleRequestSchema> = {},
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const response of client.exportBundle(request)) chunks.push(response.chunk);
  return Buffer.concat(chunks);
}

const scratch = mkdtempSync(join(tmpdir(), "audit-bundles-"));
let files = 0;

/** Writes bytes to a fresh file in a scratch folder; returns its path. */
export function saveFile(bytes: Uint8Array | string, name = "bundle"): string {
  const path = join(scratch, `${name}-${files++}`);
  writeFileSync(path, bytes);
  return path;
}

const CLI = fileURLToPath(new URL("../../src/cli/audit-verify.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));

/** Runs the audit-verify CLI as an auditor would, in a child process. */
export function runVerifier(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", CLI, ...args],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
