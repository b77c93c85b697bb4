import express, { type Router } from 'express';
import type { AdminPageContext } from './admin-context.ts';
import { createStandardsPages, handle } from './standards/context.ts';
import { exportCase, exportCsv, showAudit, showFramework } from './standards/framework.ts';
import { createFrameworkHere, showFrameworks, showStandardsHome } from './standards/frameworks.ts';
import { importFile, importFromCaseServer, showImport } from './standards/import.ts';
import { showImportStatus, showImportStatusJson } from './standards/import-status.ts';
import {
  addStandard,
  archiveStandard,
  editStandard,
  moveStandard,
  restoreStandard,
  showItem,
} from './standards/items.ts';

/**
 * The district standards library in the admin area: frameworks, import (file upload or CASE
 * server), the tree with authoring, the audit trail and export. One file per page group under
 * `standards/`; each handler parses its input, checks the district, calls one standards use case
 * and renders a view model.
 */

export { MAX_IMPORT_BYTES } from './standards/upload.ts';
export { TREE_NODE_LIMIT } from './standards/tree.ts';

const form = express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 50 });

const DISTRICT = '/standards/district/:tenantId';
const FRAMEWORK = `${DISTRICT}/frameworks/:frameworkId`;
const ITEM = `${FRAMEWORK}/items/:itemId`;

export function standardsAdminPages(router: Router, ctx: AdminPageContext): void {
  const pages = createStandardsPages(ctx);
  const { csrf } = ctx;
  router.get('/standards', handle(pages, showStandardsHome));
  router.get(DISTRICT, handle(pages, showFrameworks));
  router.post(`${DISTRICT}/frameworks`, form, csrf, handle(pages, createFrameworkHere));

  router.get(`${DISTRICT}/import`, handle(pages, showImport));
  // Multipart: the body is read (and its CSRF field checked) by the handler.
  router.post(`${DISTRICT}/import/file`, handle(pages, importFile));
  router.post(`${DISTRICT}/import/url`, form, csrf, handle(pages, importFromCaseServer));
  router.get(`${DISTRICT}/imports/:importId/status`, handle(pages, showImportStatusJson));
  router.get(`${DISTRICT}/imports/:importId`, handle(pages, showImportStatus));

  router.get(FRAMEWORK, handle(pages, showFramework));
  router.get(`${FRAMEWORK}/audit`, handle(pages, showAudit));
  router.get(`${FRAMEWORK}/export/case`, handle(pages, exportCase));
  router.get(`${FRAMEWORK}/export/csv`, handle(pages, exportCsv));

  router.post(`${FRAMEWORK}/items`, form, csrf, handle(pages, addStandard));
  router.get(ITEM, handle(pages, showItem));
  router.post(ITEM, form, csrf, handle(pages, editStandard));
  router.post(`${ITEM}/move`, form, csrf, handle(pages, moveStandard));
  router.post(`${ITEM}/archive`, form, csrf, handle(pages, archiveStandard));
  router.post(`${ITEM}/restore`, form, csrf, handle(pages, restoreStandard));
}
