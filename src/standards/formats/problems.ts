import { createHash } from 'node:crypto';
import {
  MAX_IMPORT_ERRORS,
  type ImportError,
  type ImportWarning,
} from '../../domain/standards-model.ts';

/**
 * Collects every error of one import (an admin fixes a file in one pass, not one error per upload),
 * up to MAX_IMPORT_ERRORS; the last entry then says the list was cut.
 */
export interface ProblemCollector {
  readonly errors: ImportError[];
  readonly warnings: ImportWarning[];
  error(problem: ImportError): void;
  warn(problem: ImportWarning): void;
  readonly full: () => boolean;
}

export function createProblemCollector(): ProblemCollector {
  const errors: ImportError[] = [];
  const warnings: ImportWarning[] = [];
  let cut = false;
  return {
    errors,
    warnings,
    error(problem) {
      if (cut) return;
      if (errors.length >= MAX_IMPORT_ERRORS) {
        cut = true;
        errors.push({
          code: 'too_many_errors',
          message: `Stopped after ${MAX_IMPORT_ERRORS} problems. Fix these and upload the file again to see the rest.`,
        });
        return;
      }
      errors.push(problem);
    },
    warn(problem) {
      if (warnings.length < MAX_IMPORT_ERRORS) warnings.push(problem);
    },
    full: () => cut,
  };
}

export function fileTooLarge(bytes: number, maxBytes: number): ImportError {
  const mb = (n: number): string => (n / 1_048_576).toFixed(1);
  return {
    code: 'file_too_large',
    message: `The file is ${mb(bytes)} MB; the limit is ${mb(maxBytes)} MB. Split the framework into smaller files or ask your administrator to raise the limit.`,
  };
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Spreadsheet programs save UTF-8 with a byte-order mark; it is not part of the content. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * A name-based (version 5) UUID: the same framework and name always give the same GUID, so a
 * re-import of the same CSV updates items instead of duplicating them, with no randomness to inject.
 */
export function nameBasedGuid(namespaceGuid: string, name: string): string {
  const namespaceHex = namespaceGuid.replace(/-/g, '');
  const namespaceBytes = /^[0-9a-f]{32}$/i.test(namespaceHex)
    ? Buffer.from(namespaceHex, 'hex')
    : Buffer.from(namespaceGuid, 'utf8');
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Drops keys whose value is undefined, so models compare equal whether a field was absent or unset. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}
