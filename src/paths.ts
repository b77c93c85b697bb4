import { fileURLToPath } from 'node:url';

/**
 * Folders beside src/ (and beside dist/ in a build), resolved from this file so that the app finds
 * its views and config wherever it is started from.
 */
const root = new URL('../', import.meta.url);

export const paths = {
  root: fileURLToPath(root),
  config: fileURLToPath(new URL('config', root)),
  views: fileURLToPath(new URL('views', root)),
  public: fileURLToPath(new URL('public', root)),
} as const;
