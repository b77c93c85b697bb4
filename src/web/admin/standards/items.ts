import type { Request, Response } from 'express';
import { z } from 'zod';
import { isUuid } from '../../../ids.ts';
import {
  addItem,
  archiveItem,
  editItem,
  moveItem,
  restoreItem,
} from '../../../standards/authoring.ts';
import {
  findItemsByCode,
  frameworkHasItem,
  frameworkTree,
  type FrameworkRow,
  type TreeRow,
} from '../../../standards/library.ts';
import { notFound } from '../../errors.ts';
import {
  authoringFailure,
  formOf,
  frameworkOf,
  notice,
  page,
  param,
  scopeOf,
  textFields,
  type Scope,
  type StandardsPages,
} from './context.ts';
import { renderFramework } from './framework.ts';
import { itemLabel, levelsOf, positionOf, shorten, TREE_NODE_LIMIT, treeEvents } from './tree.ts';

/**
 * One standard of a framework: its page (ancestors, sub-standards, the forms to edit, add a child,
 * move, archive or restore it) and those changes. A change the authoring rules refuse shows the
 * standard's page again (400) with the form that was sent open and why; a done one is logged and
 * the standard's page says what was done.
 */

interface ItemFormState {
  form?: 'edit' | 'child' | 'move' | 'archive';
  error?: string;
  values?: Record<string, string>;
}

/** Standards the item cannot move under: itself and its sub-standards (all, archived too). */
function selfAndDescendants(
  item: TreeRow,
  childrenOf: ReadonlyMap<string, TreeRow[]>,
): Set<string> {
  const excluded = new Set<string>();
  for (const stack = [item]; stack.length > 0;) {
    const next = stack.pop();
    if (next === undefined || excluded.has(next.id)) continue;
    excluded.add(next.id);
    stack.push(...(childrenOf.get(next.id) ?? []));
  }
  return excluded;
}

function childrenByParent(items: readonly TreeRow[]): Map<string, TreeRow[]> {
  const childrenOf = new Map<string, TreeRow[]>();
  for (const candidate of items) {
    if (candidate.parentId === null) continue;
    const list = childrenOf.get(candidate.parentId);
    if (list) list.push(candidate);
    else childrenOf.set(candidate.parentId, [candidate]);
  }
  return childrenOf;
}

async function renderItem(
  pages: StandardsPages,
  req: Request,
  res: Response,
  target: { scope: Scope; framework: FrameworkRow; itemId: string },
  formState: ItemFormState = {},
): Promise<void> {
  const { scope, framework, itemId } = target;
  const items = await frameworkTree(pages.db, scope.tenant.id, framework.id, {
    includeArchived: true,
  });
  const item = items.find((candidate) => candidate.id === itemId);
  if (item === undefined) throw notFound('This standard is not in the framework.');
  const byId = new Map(items.map((candidate) => [candidate.id, candidate]));
  const childrenOf = childrenByParent(items);
  const excluded = selfAndDescendants(item, childrenOf);
  const frameworkHref = `${scope.root}/frameworks/${framework.id}`;
  const children = (childrenOf.get(item.id) ?? []).filter((c) => c.archivedAt === null);
  const siblings = items.filter((c) => c.parentId === item.parentId && c.archivedAt === null);
  const ancestors: { label: string; href: string }[] = [];
  for (let at = item.parentId; at !== null; at = byId.get(at)?.parentId ?? null) {
    ancestors.unshift({ label: itemLabel(byId.get(at)), href: `${frameworkHref}/items/${at}` });
    if (ancestors.length > 50) break;
  }
  const parents = items.filter(
    (candidate) => !excluded.has(candidate.id) && candidate.archivedAt === null,
  );
  const values = formState.values ?? {};
  res.status(formState.error === undefined ? 200 : 400);
  res.render('admin/standards/item', {
    ...page(pages, scope, item.code ?? shorten(item.fullStatement, 40)),
    notice: notice(req),
    framework: { title: framework.title, href: frameworkHref },
    ancestors,
    item: {
      id: item.id,
      href: `${frameworkHref}/items/${item.id}`,
      heading: item.code ?? shorten(item.fullStatement, 60),
      code: item.code ?? '',
      fullStatement: item.fullStatement,
      abbreviatedStatement: item.abbreviatedStatement ?? '',
      itemType: item.itemType ?? '',
      levels: item.educationLevels.join(', '),
      guid: item.guid,
      archived: item.archivedAt !== null,
      parentId: item.parentId ?? '',
      parentCode: item.parentId === null ? '' : (byId.get(item.parentId)?.code ?? ''),
      position: siblings.findIndex((c) => c.id === item.id) + 1,
      childCount: children.length,
    },
    subtree: treeEvents(
      items.filter((candidate) => candidate.archivedAt === null || item.archivedAt !== null),
      item.id,
    ),
    itemHref: (id: string) => `${frameworkHref}/items/${id}`,
    // A list of 20,000 options helps nobody: large frameworks take the new parent's code instead.
    parents:
      parents.length <= TREE_NODE_LIMIT
        ? parents.map((candidate) => ({ id: candidate.id, label: itemLabel(candidate) }))
        : undefined,
    form: formState.form,
    error: formState.error,
    values,
  });
}

/** The standard an item route names; an id that is not a UUID answers like a missing standard. */
function itemIdOf(req: Request): string {
  const itemId = param(req, 'itemId');
  if (!isUuid(itemId)) throw notFound('This standard is not in the framework.');
  return itemId;
}

export async function showItem(pages: StandardsPages, req: Request, res: Response): Promise<void> {
  const scope = await scopeOf(pages, req);
  const framework = await frameworkOf(pages, scope, req);
  await renderItem(pages, req, res, { scope, framework, itemId: itemIdOf(req) });
}

/** Who changes which framework: the district and framework the path names, checked. */
async function authoringOf(pages: StandardsPages, req: Request) {
  const scope = await scopeOf(pages, req);
  const framework = await frameworkOf(pages, scope, req);
  const actor = scope.actor.id;
  return {
    scope,
    framework,
    actor,
    context: { tenantId: scope.tenant.id, actor, frameworkId: framework.id },
    frameworkHref: `${scope.root}/frameworks/${framework.id}`,
  };
}

type Authoring = Awaited<ReturnType<typeof authoringOf>>;

const itemForm = textFields([
  'code',
  'fullStatement',
  'abbreviatedStatement',
  'itemType',
  'educationLevels',
  'parentId',
  'parentCode',
  'position',
]);

type ItemValues = ReturnType<typeof itemForm.parse>;

/** The move form of large frameworks sends the new parent's code ('' for the top level). */
const parentCodeForm = z.object({ parentCode: z.string().optional().catch(undefined) });

/** A standard's text fields as the add and edit use cases take them. */
function itemContent(values: ItemValues) {
  return {
    code: values.code,
    fullStatement: values.fullStatement,
    abbreviatedStatement: values.abbreviatedStatement,
    itemType: values.itemType,
    educationLevels: levelsOf(values.educationLevels),
  };
}

function parentOf(value: string): string | null {
  if (value === '') return null;
  // An id that is not a UUID cannot be a standard; the use case answers "not in this framework".
  return isUuid(value) ? value : '00000000-0000-0000-0000-000000000000';
}

/** After a change: log who changed which standard, then show it with what was done. */
function changed(
  pages: StandardsPages,
  res: Response,
  authoring: Authoring,
  itemId: string,
  done: { notice: string; log: string },
): void {
  pages.logger.info(
    { tenantId: authoring.scope.tenant.id, itemId, actor: authoring.actor },
    done.log,
  );
  res.redirect(303, `${authoring.frameworkHref}/items/${itemId}?done=${done.notice}`);
}

/** Runs a change to one standard; a refused one shows the standard again with the form and why. */
async function changeItem(
  pages: StandardsPages,
  req: Request,
  res: Response,
  step: {
    authoring: Authoring;
    itemId: string;
    formState: { form: 'edit' | 'move' | 'archive'; values?: Record<string, string> };
    change: () => Promise<void>;
    done: { notice: string; log: string };
  },
): Promise<void> {
  const { authoring, itemId } = step;
  try {
    await step.change();
  } catch (error) {
    const message = authoringFailure(error);
    await renderItem(
      pages,
      req,
      res,
      { scope: authoring.scope, framework: authoring.framework, itemId },
      { ...step.formState, error: message },
    );
    return;
  }
  changed(pages, res, authoring, itemId, step.done);
}

/**
 * Adds a standard: at the top level (from the framework page) or as a child (from a standard's
 * page, which shows the refusal again when the parent exists).
 */
export async function addStandard(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const values = formOf(itemForm, req);
  const authoring = await authoringOf(pages, req);
  const { scope, framework, context } = authoring;
  const parentId = parentOf(values.parentId);
  let itemId: string;
  try {
    itemId = await addItem(
      pages.db,
      context,
      { parentId, position: positionOf(values.position), ...itemContent(values) },
      pages.authoring,
    );
  } catch (error) {
    const message = authoringFailure(error);
    if (
      parentId !== null &&
      isUuid(values.parentId) &&
      (await frameworkHasItem(pages.db, scope.tenant.id, framework.id, parentId))
    ) {
      await renderItem(
        pages,
        req,
        res,
        { scope, framework, itemId: parentId },
        { form: 'child', error: message, values },
      );
      return;
    }
    await renderFramework(pages, req, res, scope, framework, { values, error: message });
    return;
  }
  changed(pages, res, authoring, itemId, { notice: 'item-added', log: 'admin added a standard' });
}

export async function editStandard(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const values = formOf(itemForm, req);
  const authoring = await authoringOf(pages, req);
  const itemId = itemIdOf(req);
  await changeItem(pages, req, res, {
    authoring,
    itemId,
    formState: { form: 'edit', values },
    change: () =>
      editItem(pages.db, authoring.context, itemId, itemContent(values), pages.authoring),
    done: { notice: 'item-saved', log: 'admin edited a standard' },
  });
}

/** Moves a standard; large frameworks name the new parent by its code (see `renderItem`). */
export async function moveStandard(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const values = formOf(itemForm, req);
  const authoring = await authoringOf(pages, req);
  const { scope, framework } = authoring;
  const itemId = itemIdOf(req);
  const parentCode = formOf(parentCodeForm, req).parentCode?.trim();
  let parentId = parentOf(values.parentId);
  if (parentCode !== undefined && parentCode !== '') {
    const matches = await findItemsByCode(pages.db, scope.tenant.id, framework.id, parentCode);
    const match = matches[0];
    if (match === undefined || matches.length > 1) {
      await renderItem(
        pages,
        req,
        res,
        { scope, framework, itemId },
        {
          form: 'move',
          error:
            match === undefined
              ? `No standard of this framework has the code "${parentCode}". Check the code in the tree, or search for it.`
              : `Several standards have the code "${parentCode}"; give them distinct codes first, then move this standard.`,
          values,
        },
      );
      return;
    }
    parentId = match.id;
  } else if (parentCode !== undefined) {
    parentId = null;
  }
  await changeItem(pages, req, res, {
    authoring,
    itemId,
    formState: { form: 'move', values },
    change: () =>
      moveItem(
        pages.db,
        authoring.context,
        itemId,
        { parentId, position: positionOf(values.position) },
        pages.authoring,
      ),
    done: { notice: 'item-moved', log: 'admin moved a standard' },
  });
}

export async function archiveStandard(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const authoring = await authoringOf(pages, req);
  const itemId = itemIdOf(req);
  await changeItem(pages, req, res, {
    authoring,
    itemId,
    formState: { form: 'archive' },
    change: () => archiveItem(pages.db, authoring.context, itemId, pages.authoring),
    done: { notice: 'item-archived', log: 'admin archived a standard' },
  });
}

export async function restoreStandard(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const authoring = await authoringOf(pages, req);
  const itemId = itemIdOf(req);
  await changeItem(pages, req, res, {
    authoring,
    itemId,
    formState: { form: 'archive' },
    change: () => restoreItem(pages.db, authoring.context, itemId, pages.authoring),
    done: { notice: 'item-restored', log: 'admin restored a standard' },
  });
}
