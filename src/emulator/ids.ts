import type { Flavour } from './types.ts';

/** Randomness is injected so a test can make ids reproducible. */
export type RandomBytes = (size: number) => Uint8Array;

export function hex(randomBytes: RandomBytes, bytes: number): string {
  return Buffer.from(randomBytes(bytes)).toString('hex');
}

function digits(randomBytes: RandomBytes, count: number): string {
  const bytes = randomBytes(count);
  let out = '';
  for (let i = 0; i < count; i++) out += String((bytes[i] ?? 0) % 10);
  // Ids like Schoology's never start with 0.
  return out.replace(/^0/, '1');
}

/**
 * Id formats seen in real messages (../shared/LMS-NOTES.md). Tools must treat all of them as
 * opaque strings; the emulator produces each flavour's shape so tools meet realistic values.
 */
export function createIdFactory(flavour: Flavour, randomBytes: RandomBytes) {
  let sequence = 0;
  const next = (): number => ++sequence;
  return {
    /** Canvas developer key id, Schoology app id, Moodle random client id. */
    clientId(): string {
      switch (flavour) {
        case 'canvas':
          return String(10000000000000 + next());
        case 'schoology':
          return digits(randomBytes, 10);
        case 'moodle':
          return Buffer.from(randomBytes(12)).toString('base64url').slice(0, 15);
      }
    },
    /** Canvas `10408:<40 hex>`, Schoology `1234567890-9876543210`, Moodle tool type id `"1"`. */
    deploymentId(): string {
      switch (flavour) {
        case 'canvas':
          return `${10400 + next()}:${hex(randomBytes, 20)}`;
        case 'schoology':
          return `${digits(randomBytes, 10)}-${digits(randomBytes, 10)}`;
        case 'moodle':
          return String(next());
      }
    },
    /** Canvas opaque 40 hex, Schoology `{uid}::{hash}`, Moodle numeric user id. */
    sub(userSequence: number): string {
      switch (flavour) {
        case 'canvas':
          return hex(randomBytes, 20);
        case 'schoology':
          return `${digits(randomBytes, 8)}::${hex(randomBytes, 16)}`;
        case 'moodle':
          return String(userSequence + 1);
      }
    },
    contextId(courseId: string): string {
      switch (flavour) {
        case 'canvas':
          return hex(randomBytes, 20);
        case 'schoology':
          return digits(randomBytes, 10);
        case 'moodle':
          return courseId;
      }
    },
    resourceLinkId(): string {
      switch (flavour) {
        case 'canvas': {
          // Canvas resource link ids are UUIDs.
          const h = hex(randomBytes, 16);
          return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
        }
        case 'schoology':
          return digits(randomBytes, 10);
        case 'moodle':
          return String(next());
      }
    },
    /** Internal sequential ids (course ids in URLs, line item ids). */
    sequential(): string {
      return String(100 + next());
    },
    opaque(bytes = 24): string {
      return Buffer.from(randomBytes(bytes)).toString('base64url');
    },
  };
}

export type IdFactory = ReturnType<typeof createIdFactory>;
