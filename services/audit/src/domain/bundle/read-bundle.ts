import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  BundleConsistencyProofSchema,
  BundleDisclosureSchema,
  BundleHeaderSchema,
  BundleInclusionProofSchema,
  type BundleConsistencyProof,
  type BundleDisclosure,
  type BundleHeader,
  type BundleInclusionProof,
} from "@money/proto/audit/v1/bundle_pb";
import { HASH_SIZE_BYTES } from "../merkle/index.js";
import { BundleFormatError } from "./bundle-error.js";
import { BUNDLE_MAGIC, MAX_RECORD_BYTES, RECORD_PREFIX_BYTES, RecordKind } from "./bundle-format.js";

/**
 * A bundle read into memory. Entries are not copied: `entryAt` returns views
 * into the file's bytes, so a million entries cost two offsets each.
 */
export interface ParsedBundle {
  readonly header: BundleHeader;
  readonly entryCount: number;
  /** The leaf hash the log stored for entry record `i` (a view). */
  storedLeafHash(i: number): Uint8Array;
  /** The canonical leaf bytes of entry record `i` (a view). */
  leaf(i: number): Uint8Array;
  /** Signed checkpoint notes, in file order. */
  readonly checkpoints: readonly string[];
  readonly consistencyProofs: readonly BundleConsistencyProof[];
  readonly inclusionProofs: readonly BundleInclusionProof[];
  readonly disclosures: readonly BundleDisclosure[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a bundle file, strictly: the magic line, records in the documented
 * order, each body well-formed (protobuf without unknown fields, UTF-8 notes,
 * entry bodies of at least a hash), the end record counting the records
 * before it, and nothing after. Strictness is what makes every byte of the
 * file matter: a flipped bit either breaks this or changes something the
 * verifier checks.
 *
 * @throws BundleFormatError
 */
export function readBundle(bytes: Uint8Array): ParsedBundle {
  if (bytes.length < BUNDLE_MAGIC.length || !BUNDLE_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new BundleFormatError(0, "not an audit bundle (bad magic line)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: BundleHeader | undefined;
  const entryStarts: number[] = [];
  const entryEnds: number[] = [];
  const checkpoints: string[] = [];
  const consistencyProofs: BundleConsistencyProof[] = [];
  const inclusionProofs: BundleInclusionProof[] = [];
  const disclosures: BundleDisclosure[] = [];
  let records = 0;
  let lastKind = 0;
  let ended = false;
  let at = BUNDLE_MAGIC.length;
  while (at < bytes.length) {
    if (ended) throw new BundleFormatError(at, "bytes after the end record");
    if (at + RECORD_PREFIX_BYTES > bytes.length) throw new BundleFormatError(at, "truncated record prefix");
    const kind = bytes[at]!;
    const length = view.getUint32(at + 1);
    const start = at + RECORD_PREFIX_BYTES;
    const end = start + length;
    if (length > MAX_RECORD_BYTES || end > bytes.length) {
      throw new BundleFormatError(at, `record length ${length} runs past the end of the file`);
    }
    if (kind < lastKind) throw new BundleFormatError(at, `record kind ${kind} after kind ${lastKind}`);
    if (records === 0 && kind !== RecordKind.header)
      throw new BundleFormatError(at, "the header must come first");
    const body = bytes.subarray(start, end);
    switch (kind) {
      case RecordKind.header:
        if (header) throw new BundleFormatError(at, "a second header");
        header = decodeStrict(BundleHeaderSchema, body, at);
        break;
      case RecordKind.entry:
        if (length < HASH_SIZE_BYTES)
          throw new BundleFormatError(at, "entry record shorter than a leaf hash");
        entryStarts.push(start);
        entryEnds.push(end);
        break;
      case RecordKind.checkpoint:
        try {
          checkpoints.push(utf8.decode(body));
        } catch {
          throw new BundleFormatError(at, "checkpoint note is not UTF-8");
        }
        break;
      case RecordKind.consistency:
        consistencyProofs.push(decodeStrict(BundleConsistencyProofSchema, body, at));
        break;
      case RecordKind.inclusion:
        inclusionProofs.push(decodeStrict(BundleInclusionProofSchema, body, at));
        break;
      case RecordKind.disclosure:
        disclosures.push(decodeStrict(BundleDisclosureSchema, body, at));
        break;
      case RecordKind.end:
        if (length !== 4 || view.getUint32(start) !== records) {
          throw new BundleFormatError(at, `end record does not count the ${records} records before it`);
        }
        ended = true;
        break;
      default:
        throw new BundleFormatError(at, `unknown record kind ${kind}`);
    }
    lastKind = kind;
    records++;
    at = end;
  }
  if (!ended) throw new BundleFormatError(at, "no end record: the file is truncated");
  const starts = Float64Array.from(entryStarts);
  const ends = Float64Array.from(entryEnds);
  return {
    header: header!,
    entryCount: starts.length,
    storedLeafHash: (i) => bytes.subarray(starts[i]!, starts[i]! + HASH_SIZE_BYTES),
    leaf: (i) => bytes.subarray(starts[i]! + HASH_SIZE_BYTES, ends[i]!),
    checkpoints,
    consistencyProofs,
    inclusionProofs,
    disclosures,
  };
}

function decodeStrict<Desc extends DescMessage>(
  schema: Desc,
  body: Uint8Array,
  at: number,
): MessageShape<Desc> {
  let message: MessageShape<Desc>;
  try {
    message = fromBinary(schema, body, { readUnknownFields: true });
  } catch (error) {
    throw new BundleFormatError(at, `${schema.name} does not decode: ${(error as Error).message}`);
  }
  const unknown = (message as { $unknown?: unknown[] }).$unknown;
  if (unknown && unknown.length > 0) throw new BundleFormatError(at, `${schema.name} has unknown fields`);
  // One message, one encoding: a body that decodes but is not what the
  // exporter writes (a repeated field, a padded varint) is refused too.
  const canonical = toBinary(schema, message);
  if (canonical.length !== body.length || !canonical.every((b, i) => b === body[i])) {
    throw new BundleFormatError(at, `${schema.name} is not canonically encoded`);
  }
  return message;
}
