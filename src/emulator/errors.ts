/** Stable codes for every way the emulator's state API can refuse a call. */
export type EmulatorErrorCode =
  | 'unknown_tool'
  | 'unknown_deployment'
  | 'unknown_course'
  | 'unknown_person'
  | 'unknown_line_item'
  | 'unknown_resource_link'
  | 'not_enrolled'
  | 'tool_not_deployed'
  | 'invalid_argument';

export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;

  constructor(code: EmulatorErrorCode, message: string) {
    super(message);
    this.name = 'EmulatorError';
    this.code = code;
  }
}
