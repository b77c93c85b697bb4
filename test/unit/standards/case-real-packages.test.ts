import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { exportCasePackage } from '../../../src/standards/formats/case-export.ts';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import type { Framework, ImportResult } from '../../../src/domain/standards-model.ts';

const MAX_BYTES = 5 * 1024 * 1024;

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/case/sbac/${name}`, import.meta.url), 'utf8');
}

function frameworkOf(result: ImportResult): Framework {
  if (!result.ok) throw new Error(`import failed: ${JSON.stringify(result.errors, null, 2)}`);
  return result.framework;
}

interface RawAssociation {
  associationType: string;
  originNodeURI: { identifier: string };
  destinationNodeURI: { identifier: string };
  sequenceNumber?: number;
}
interface RawPackage {
  CFDocument: { identifier: string };
  CFItems: { identifier: string }[];
  CFAssociations: RawAssociation[];
}

// Counts from ../shared/case/README.md; "unique" discounts the one item the ELA claim 1 package lists twice.
const packages = [
  {
    file: 'sbac-math-g3-claim1-target-h.json',
    entries: 48,
    unique: 48,
    associations: 67,
    topLevel: 4,
  },
  {
    file: 'sbac-ela-g3-claim1-target1.json',
    entries: 38,
    unique: 37,
    associations: 56,
    topLevel: 4,
  },
  {
    file: 'sbac-ela-g3-claim2-targets-1a-1b.json',
    entries: 65,
    unique: 65,
    associations: 100,
    topLevel: 4,
  },
  { file: 'sbac-math-g3-5-claim2.json', entries: 305, unique: 305, associations: 518, topLevel: 5 },
] as const;

describe('CASE import of the real Smarter Balanced packages', () => {
  for (const expected of packages) {
    describe(expected.file, () => {
      const text = fixture(expected.file);
      const raw = JSON.parse(text) as RawPackage;

      it('when imported, then there are no errors and every item and association is kept', () => {
        const result = parseCasePackage(text, { maxBytes: MAX_BYTES });
        const framework = frameworkOf(result);
        expect(raw.CFItems).to.have.length(expected.entries);
        expect(framework.items).to.have.length(expected.unique);
        expect(framework.associations).to.have.length(expected.associations);
        expect(framework.caseVersion).to.equal('1.0');
        expect(framework.caseGuid).to.equal(raw.CFDocument.identifier);
      });

      it('when imported, then each item sits under the destination of its isChildOf association', () => {
        const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
        const documentGuid = raw.CFDocument.identifier;
        const expectedParent = new Map<string, string | null>();
        for (const association of raw.CFAssociations) {
          if (association.associationType !== 'isChildOf') continue;
          const destination = association.destinationNodeURI.identifier;
          expectedParent.set(
            association.originNodeURI.identifier,
            destination === documentGuid ? null : destination,
          );
        }
        for (const item of framework.items) {
          expect(expectedParent.has(item.guid), item.guid).to.equal(true);
          expect(item.parentGuid, item.guid).to.equal(expectedParent.get(item.guid));
        }
        expect(framework.items.filter((item) => item.parentGuid === null)).to.have.length(
          expected.topLevel,
        );
      });

      it('when imported, then siblings are ordered by sequenceNumber, unnumbered ones after in file order', () => {
        const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
        const link = new Map<string, { sequenceNumber: number; position: number }>();
        raw.CFAssociations.forEach((association, position) => {
          if (association.associationType === 'isChildOf') {
            link.set(association.originNodeURI.identifier, {
              sequenceNumber: association.sequenceNumber ?? Number.POSITIVE_INFINITY,
              position,
            });
          }
        });
        const siblings = new Map<string | null, { order: number; guid: string }[]>();
        for (const item of framework.items) {
          const list = siblings.get(item.parentGuid) ?? [];
          list.push({ order: item.order, guid: item.guid });
          siblings.set(item.parentGuid, list);
        }
        for (const list of siblings.values()) {
          list.sort((a, b) => a.order - b.order);
          expect(list.map((s) => s.order)).to.deep.equal(list.map((_, i) => i + 1));
          for (let i = 1; i < list.length; i++) {
            const before = link.get(list[i - 1]!.guid)!;
            const after = link.get(list[i]!.guid)!;
            const inOrder =
              before.sequenceNumber < after.sequenceNumber ||
              (before.sequenceNumber === after.sequenceNumber && before.position < after.position);
            expect(inOrder, `${list[i - 1]!.guid} before ${list[i]!.guid}`).to.equal(true);
          }
        }
      });

      it('when exported and imported again, then the framework is unchanged', () => {
        const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
        const again = frameworkOf(
          parseCasePackage(JSON.stringify(exportCasePackage(framework)), { maxBytes: MAX_BYTES }),
        );
        expect(again).to.deep.equal(framework);
      });
    });
  }

  it('when a statement has CRLF line breaks and Markdown, then it is kept exactly', () => {
    const text = fixture('sbac-ela-g3-claim1-target1.json');
    const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
    const item = framework.items.find((i) => i.guid === '79de914e-cc76-11e7-8be9-bd50b5b04081');
    expect(item?.fullStatement).to.contain('from the text.\r\n\r\nNote: in RL Target 4');
    expect(item?.itemType).to.equal('Clarification');
    expect(item?.educationLevels).to.deep.equal(['03']);
    expect(item?.code).to.equal(undefined);
  });

  it('when a document names its subject only by CFSubject link, then the subject is taken from the link', () => {
    const framework = frameworkOf(
      parseCasePackage(fixture('sbac-ela-g3-claim1-target1.json'), { maxBytes: MAX_BYTES }),
    );
    expect(framework.subject).to.deep.equal(['English Language Arts']);
    expect(framework.subjectRefs.map((s) => s.title)).to.deep.equal(['English Language Arts']);
  });

  it('when the Grade 3 math package is imported, then the top level reads in sequence order', () => {
    const text = fixture('sbac-math-g3-claim1-target-h.json');
    const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
    const top = framework.items
      .filter((item) => item.parentGuid === null)
      .sort((a, b) => a.order - b.order)
      .map((item) => item.code ?? item.fullStatement.slice(0, 20));
    expect(top).to.deep.equal([
      'Tasks associated wit',
      'M.G3.C1MD.TH',
      'Item Writing and Sco',
      'Task Models',
    ]);
  });

  it('when a package lists the same item twice with the same statement, then it is one item and a warning names it', () => {
    const result = parseCasePackage(fixture('sbac-ela-g3-claim1-target1.json'), {
      maxBytes: MAX_BYTES,
    });
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const merged = result.warnings.filter((w) => w.code === 'duplicate_guid_merged');
    expect(merged.map((w) => w.itemGuid)).to.deep.equal(['81bef0ac-cc76-11e7-943b-9b9ed3d69b53']);
    const kept = result.framework.items.find(
      (i) => i.guid === '81bef0ac-cc76-11e7-943b-9b9ed3d69b53',
    );
    // The first record wins: it is the one with a CFItemType.
    expect(kept?.abbreviatedStatement).to.equal('Evidence Required 1');
    expect(kept?.itemType).to.equal('Evidence Required');
  });

  it('when two items share a code, then both are imported with a duplicate_code warning', () => {
    const result = parseCasePackage(fixture('sbac-ela-g3-claim2-targets-1a-1b.json'), {
      maxBytes: MAX_BYTES,
    });
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const duplicates = result.warnings.filter((w) => w.code === 'duplicate_code');
    expect(duplicates).to.have.length(4);
    expect(result.framework.items.filter((i) => i.code === 'E.G3.C2WN.T1a.W.3.3a')).to.have.length(
      2,
    );
  });
});
