/** A file that is not a well-formed bundle: where, and what is wrong. */
export class BundleFormatError extends Error {
  override readonly name = "BundleFormatError";

  constructor(
    /** Byte offset of the problem in the file. */
    readonly offset: number,
    message: string,
  ) {
    super(`at byte ${offset}: ${message}`);
  }
}
