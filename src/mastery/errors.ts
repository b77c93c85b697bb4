/** Stable codes callers can switch on; the message is for operators. */
export type MasteryErrorCode =
  | 'INVALID_POLICY'
  | 'INVALID_SCALE'
  | 'INVALID_OVERRIDE'
  | 'UNKNOWN_LEVEL'
  | 'INVALID_ROLLUP'
  | 'INVALID_CONVERSION_TABLE';

export class MasteryError extends Error {
  readonly code: MasteryErrorCode;

  constructor(code: MasteryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MasteryError';
    this.code = code;
  }
}
