/**
 * The little of the Postgres wire protocol (v3) the embedded server needs to
 * read: where messages end, the startup packet's parameters, and the shape
 * of the few messages it writes itself. Everything else passes through to
 * PGlite untouched.
 */

/** First int32 after the length of an SSLRequest: answered with "N" (no TLS). */
export const SSL_REQUEST_CODE = 80877103;
/** GSSENCRequest: answered with "N" too. */
export const GSSENC_REQUEST_CODE = 80877104;
/** CancelRequest: PGlite has no backend to interrupt, so it is dropped. */
export const CANCEL_REQUEST_CODE = 80877102;
/** Protocol major version 3 in the high 16 bits of a StartupMessage's version. */
export const PROTOCOL_MAJOR_3 = 3;

/** Frontend "X": the client says goodbye. */
export const TERMINATE = 0x58;
/** Frontend "Q" (simple query) and "P" (parse) carry SQL text. */
export const QUERY = 0x51;
export const PARSE = 0x50;
/** Backend "Z" and "A". */
export const READY_FOR_QUERY = 0x5a;
export const NOTIFICATION_RESPONSE = 0x41;

/** Transaction status in ReadyForQuery: idle, in a transaction block, in a failed one. */
export type TransactionStatus = "I" | "T" | "E";

/** Byte length of the longest prefix of `buffer` made of whole typed messages (type byte, int32 length). */
export function wholeMessagesLength(buffer: Buffer): number {
  let offset = 0;
  while (buffer.length - offset >= 5) {
    const end = offset + 1 + buffer.readInt32BE(offset + 1);
    if (end > buffer.length) break;
    offset = end;
  }
  return offset;
}

export interface Message {
  type: number;
  /** The whole message, type byte included. */
  bytes: Buffer;
  /** What follows the length. */
  body: Buffer;
}

/** The typed messages of a buffer that holds whole messages only. */
export function* messagesOf(buffer: Buffer): Generator<Message> {
  let offset = 0;
  while (offset < buffer.length) {
    const end = offset + 1 + buffer.readInt32BE(offset + 1);
    yield {
      type: buffer[offset]!,
      bytes: buffer.subarray(offset, end),
      body: buffer.subarray(offset + 5, end),
    };
    offset = end;
  }
}

/** The NUL-terminated string at `offset` and the offset after its terminator. */
export function readCString(buffer: Buffer, offset: number): [string, number] {
  const end = buffer.indexOf(0, offset);
  if (end < 0) return [buffer.toString("utf8", offset), buffer.length];
  return [buffer.toString("utf8", offset, end), end + 1];
}

/** Name/value pairs of a StartupMessage (length, version, then pairs of C strings up to an empty name). */
export function startupParameters(packet: Buffer): Map<string, string> {
  const parameters = new Map<string, string>();
  let offset = 8;
  while (offset < packet.length && packet[offset] !== 0) {
    const [name, afterName] = readCString(packet, offset);
    const [value, afterValue] = readCString(packet, afterName);
    parameters.set(name, value);
    offset = afterValue;
  }
  return parameters;
}

/**
 * The settings a client passes in the `options` startup parameter, as
 * Postgres reads them: `-c name=value` or `--name=value`, separated by
 * spaces, a backslash escaping the next character.
 */
export function commandLineSettings(options: string): Map<string, string> {
  const words: string[] = [];
  let word = "";
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!;
    if (c === "\\" && i + 1 < options.length) word += options[++i];
    else if (/\s/.test(c)) {
      if (word) words.push(word);
      word = "";
    } else word += c;
  }
  if (word) words.push(word);
  const settings = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    let setting: string | undefined;
    const w = words[i]!;
    if (w === "-c") setting = words[++i];
    else if (w.startsWith("-c")) setting = w.slice(2);
    else if (w.startsWith("--")) setting = w.slice(2);
    const eq = setting?.indexOf("=") ?? -1;
    if (setting && eq > 0)
      settings.set(setting.slice(0, eq).replaceAll("-", "_").toLowerCase(), setting.slice(eq + 1));
  }
  return settings;
}

/** The SQL text of a Query or Parse message, or undefined for any other message. */
export function sqlTextOf(message: Message): string | undefined {
  if (message.type === QUERY) return readCString(message.body, 0)[0];
  if (message.type === PARSE) return readCString(message.body, readCString(message.body, 0)[1])[0];
  return undefined;
}

/** Channel and payload of a NotificationResponse (after the sender's process id). */
export function notificationOf(message: Message): { channel: string; payload: string } {
  const [channel, next] = readCString(message.body, 4);
  return { channel, payload: readCString(message.body, next)[0] };
}

/** An ErrorResponse as Postgres writes it: severity, SQLSTATE and message fields. */
export function errorResponse(severity: "ERROR" | "FATAL", sqlState: string, text: string): Buffer {
  const fields = Buffer.concat([
    field("S", severity),
    field("V", severity),
    field("C", sqlState),
    field("M", text),
    Buffer.from([0]),
  ]);
  return typed("E", fields);
}

/** A simple Query message. */
export function simpleQuery(text: string): Buffer {
  return typed("Q", Buffer.from(`${text}\0`, "utf8"));
}

/** A Sync message: ends an extended-protocol exchange and its implicit transaction. */
export const SYNC: Buffer = typed("S", Buffer.alloc(0));

function field(code: string, value: string): Buffer {
  return Buffer.from(`${code}${value}\0`, "utf8");
}

function typed(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "ascii");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
