// Errors a user can cause: values with a message that says what to do. Anything else thrown is a bug.

export type LedgerErrorCode = 'not_found' | 'invalid' | 'conflict' | 'insufficient';

export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

export const notFound = (message: string) => new LedgerError('not_found', message);
export const invalid = (message: string) => new LedgerError('invalid', message);
export const conflict = (message: string) => new LedgerError('conflict', message);
export const insufficient = (message: string) => new LedgerError('insufficient', message);

/** An invariant of the ledger broke: a bug, never a user's doing. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
