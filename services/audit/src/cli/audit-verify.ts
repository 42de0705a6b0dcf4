// audit-verify: checks an audit bundle on the auditor's machine, with no network and no trust in the
// service that exported it.
//
//   npm run audit-verify -- <bundle> --key <verifier key> [--pinned <file>]... [--save-pins <file>] [--json]
//
// --key        the log's verifier key ("<name>+<hash>+<base64>"), pinned out of band; repeatable, or
//              @file to read it from a file. Without it the key named in the bundle is used, which
//              only shows that the bundle is self-consistent.
// --origin     the log's origin, when it differs from the key name.
// --pinned     what the auditor kept from earlier runs: a bundle verified before, a pins file written by
//              --save-pins, or a checkpoint note. Repeatable.
// --save-pins  after a clean run, writes the bundle's checkpoints and leaf hashes (with the pins given)
//              to this file, for the next run's --pinned.
// --json       prints the report as JSON.
//
// Exit status: 0 clean, 1 findings, 2 usage or unreadable input.

import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { BUNDLE_MAGIC } from "../domain/bundle/bundle-format.js";
import { describeFinding } from "../domain/verification/finding.js";
import { verifyBundle, type PinnedState } from "../domain/verification/verify-bundle.js";

interface PinsFile {
  readonly format: "money-audit-pins v1";
  readonly checkpoints: string[];
  readonly leafHashes?: { readonly first: number; readonly base64: string };
}

function usage(message: string): never {
  console.error(`audit-verify: ${message}`);
  console.error(
    "usage: audit-verify <bundle> --key <verifier key> [--pinned <file>]... [--save-pins <file>] [--json]",
  );
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    key: { type: "string", multiple: true, default: [] },
    origin: { type: "string" },
    pinned: { type: "string", multiple: true, default: [] },
    "save-pins": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
if (positionals.length !== 1) usage("give exactly one bundle file");
const bundlePath = positionals[0]!;
const keys = values.key.map((k) => (k.startsWith("@") ? read(k.slice(1)).toString("utf8").trim() : k));
const options = { verifierKeys: keys, ...(values.origin ? { origin: values.origin } : {}) };

const pinned: PinnedState[] = values.pinned.map((path) => pinnedFrom(path));
const report = verifyBundle(read(bundlePath), { ...options, pinned });

if (values.json) {
  console.log(JSON.stringify({ ok: report.ok, summary: report.summary, findings: report.findings }, null, 2));
} else {
  const s = report.summary;
  console.log(`bundle      ${bundlePath}`);
  console.log(
    `log         ${s.origin}${s.keyPinned ? "" : "  (key NOT pinned: taken from the bundle itself)"}`,
  );
  console.log(`entries     ${s.entries} from sequence ${s.firstSequence}`);
  console.log(`checkpoints ${s.checkpoints} verified; latest ${s.latestSize} entries, root ${s.latestRoot}`);
  console.log(
    `proofs      ${s.consistencyProofsChecked} consistency, ${s.inclusionProofsChecked} inclusion; ${s.disclosuresChecked} disclosures`,
  );
  console.log(
    `pinned      ${s.pinnedCheckpointsChecked} checkpoints checked` +
      (s.pinnedCheckpointsUnchecked.length > 0
        ? `; not covered by this bundle: ${s.pinnedCheckpointsUnchecked.join(", ")}`
        : ""),
  );
  if (report.ok) console.log("OK: every signature, inclusion and consistency check passed");
  else {
    console.log(`FAILED: ${report.findings.length} finding(s)`);
    for (const finding of report.findings.slice(0, 200)) console.log(`  ${describeFinding(finding)}`);
    if (report.findings.length > 200) console.log(`  … and ${report.findings.length - 200} more`);
  }
}

if (report.ok && values["save-pins"]) {
  const checkpoints = [...new Set([...pinned.flatMap((p) => p.checkpoints), ...report.verified.checkpoints])];
  const hashes = report.verified.leafHashes;
  const pins: PinsFile = {
    format: "money-audit-pins v1",
    checkpoints,
    ...(hashes
      ? { leafHashes: { first: hashes.first, base64: Buffer.from(hashes.packed).toString("base64") } }
      : {}),
  };
  writeFileSync(values["save-pins"], `${JSON.stringify(pins, null, 1)}\n`);
}
process.exit(report.ok ? 0 : 1);

/** Pins from a file: an earlier bundle (verified again first), a pins file, or a checkpoint note. */
function pinnedFrom(path: string): PinnedState {
  const bytes = read(path);
  if (BUNDLE_MAGIC.every((b, i) => bytes[i] === b)) {
    const earlier = verifyBundle(bytes, options);
    if (!earlier.ok) {
      usage(`pinned bundle ${path} does not verify: ${earlier.findings.map(describeFinding).join("; ")}`);
    }
    return { ...earlier.verified, source: path };
  }
  const text = bytes.toString("utf8");
  if (text.trimStart().startsWith("{")) {
    const pins = JSON.parse(text) as PinsFile;
    if (pins.format !== "money-audit-pins v1") usage(`${path} is not a pins file`);
    return {
      source: path,
      checkpoints: pins.checkpoints,
      ...(pins.leafHashes
        ? {
            leafHashes: {
              first: pins.leafHashes.first,
              packed: Buffer.from(pins.leafHashes.base64, "base64"),
            },
          }
        : {}),
    };
  }
  return { source: path, checkpoints: [text] };
}

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    return usage(`cannot read ${path}: ${(error as Error).message}`);
  }
}
