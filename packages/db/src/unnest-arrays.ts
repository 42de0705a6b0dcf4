import { sql } from "slonik";

/** The column types unnestArrays writes; text and jsonb elements are quoted, the others are not. */
export type ColumnType = "uuid" | "text" | "jsonb" | "int4" | "int8" | "timestamptz";

const CASTS: Record<ColumnType, ReturnType<typeof sql.fragment>> = {
  uuid: sql.fragment`::uuid[]`,
  text: sql.fragment`::text[]`,
  jsonb: sql.fragment`::jsonb[]`,
  int4: sql.fragment`::int4[]`,
  int8: sql.fragment`::int8[]`,
  timestamptz: sql.fragment`::timestamptz[]`,
};

/**
 * `unnest($1::uuid[], $2::text[], …)` over rows of text values, as slonik's
 * `sql.unnest(tuples, columnTypes)` writes it, each column travelling as one
 * Postgres array literal built here.
 *
 * Why by hand: node-postgres turns an array parameter into its literal
 * element by element, quoting each and escaping it with two regular
 * expressions, and a ledger batch of a thousand postings sends some forty thousand
 * elements, most of them ids, integers and timestamps, which need neither.
 * Those are written as they are when they are bare words (so a stray value
 * cannot split an element), quoted otherwise; text is always quoted and escaped.
 */
export function unnestArrays(
  tuples: readonly (readonly (string | null)[])[],
  columnTypes: readonly ColumnType[],
): ReturnType<typeof sql.fragment> {
  const columns = columnTypes.map((type, column) =>
    arrayParameter(
      tuples.map((tuple) => tuple[column] ?? null),
      type,
    ),
  );
  return sql.fragment`unnest(${sql.join(columns, sql.fragment`, `)})`;
}

/**
 * One column as a single array parameter, `$1::uuid[]`, its literal built as
 * unnestArrays builds each of its columns.
 */
export function arrayParameter(
  values: readonly (string | null)[],
  type: ColumnType,
): ReturnType<typeof sql.fragment> {
  return sql.fragment`${arrayLiteral(values, type === "text" || type === "jsonb" ? quote : bare)}${CASTS[type]}`;
}

function arrayLiteral(values: readonly (string | null)[], element: (value: string) => string): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    out += value === null || value === undefined ? "NULL" : element(value);
  }
  return out + "}";
}

/** Characters of uuids, integers and ISO timestamps: nothing an array literal gives a meaning to. */
const BARE_WORD = /^[0-9A-Za-z:.+-]+$/;

/** A bare word as it is; anything else (not a uuid, integer or time: Postgres will say so) quoted. */
function bare(value: string): string {
  if (BARE_WORD.test(value) && !(value.length === 4 && value.toUpperCase() === "NULL")) return value;
  return quote(value);
}

const NEEDS_ESCAPE = /[\\"]/;

function quote(value: string): string {
  // Most text here (codes, empty descriptions) has nothing to escape: skip the replace.
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}
