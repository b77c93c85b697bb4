import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { exportCasePackage } from '../../../src/standards/formats/case-export.ts';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import type { Framework, ImportError, ImportResult } from '../../../src/domain/standards-model.ts';
import { MAX_IMPORT_ERRORS } from '../../../src/domain/standards-model.ts';

const MAX_BYTES = 1024 * 1024;
const DOC = 'dddddddd-0000-4000-8000-000000000000';

function guid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function ref(identifier: string, title = ''): Record<string, string> {
  return { identifier, uri: `https://case.example.org/${identifier}`, title };
}

function item(n: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    identifier: guid(n),
    uri: `https://case.example.org/${guid(n)}`,
    fullStatement: `Statement ${n}`,
    humanCodingScheme: `C.${n}`,
    ...fields,
  };
}

function without(value: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
}

let associationCounter = 1000;
function childOf(child: string, parent: string, sequenceNumber?: number): Record<string, unknown> {
  const identifier = guid(associationCounter++);
  return {
    identifier,
    uri: `https://case.example.org/${identifier}`,
    associationType: 'isChildOf',
    originNodeURI: ref(child),
    destinationNodeURI: ref(parent),
    ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
  };
}

function pkg(
  items: Record<string, unknown>[],
  associations: Record<string, unknown>[],
  document: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    CFDocument: {
      identifier: DOC,
      uri: `https://case.example.org/${DOC}`,
      title: 'Test framework',
      creator: 'Tests',
      ...document,
    },
    CFItems: items,
    CFAssociations: associations,
  });
}

function errorsOf(result: ImportResult): readonly ImportError[] {
  if (result.ok) throw new Error('expected the import to fail');
  return result.errors;
}

function frameworkOf(result: ImportResult): Framework {
  if (!result.ok) throw new Error(`import failed: ${JSON.stringify(result.errors, null, 2)}`);
  return result.framework;
}

describe('parseCasePackage', () => {
  describe('a well-formed package', () => {
    it('when items have isChildOf links, then parents and sibling order follow them', () => {
      const text = pkg(
        [item(1), item(2), item(3), item(4)],
        [
          childOf(guid(1), DOC, 1),
          childOf(guid(2), guid(1), 2),
          childOf(guid(3), guid(1), 1),
          childOf(guid(4), DOC, 2),
        ],
      );
      const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      const place = Object.fromEntries(
        framework.items.map((i) => [i.code ?? '', [i.parentGuid, i.order]]),
      );
      expect(place).to.deep.equal({
        'C.1': [null, 1],
        'C.2': [guid(1), 2],
        'C.3': [guid(1), 1],
        'C.4': [null, 2],
      });
    });

    it('when an item has two parents, then the first by sequence is the tree parent and both links are kept', () => {
      const text = pkg(
        [item(1), item(2), item(3)],
        [
          childOf(guid(1), DOC, 1),
          childOf(guid(2), DOC, 2),
          childOf(guid(3), guid(2), 5),
          childOf(guid(3), guid(1), 3),
        ],
      );
      const result = parseCasePackage(text, { maxBytes: MAX_BYTES });
      const framework = frameworkOf(result);
      expect(framework.items.find((i) => i.guid === guid(3))?.parentGuid).to.equal(guid(1));
      expect(
        framework.associations.filter((a) => a.origin.identifier === guid(3)).map((a) => a.type),
      ).to.deep.equal(['isChildOf', 'isChildOf']);
      expect(result.ok && result.warnings.map((w) => w.code)).to.deep.equal(['multiple_parents']);
    });

    it('when an item has no isChildOf, then it is top level after the others, with a warning, and the export keeps it there', () => {
      const text = pkg([item(1), item(2)], [childOf(guid(2), DOC, 7)]);
      const result = parseCasePackage(text, { maxBytes: MAX_BYTES });
      const framework = frameworkOf(result);
      expect(framework.items.map((i) => [i.code, i.parentGuid, i.order])).to.deep.equal([
        ['C.1', null, 2],
        ['C.2', null, 1],
      ]);
      expect(result.ok && result.warnings.map((w) => w.code)).to.deep.equal(['orphan_item']);
      const again = frameworkOf(
        parseCasePackage(JSON.stringify(exportCasePackage(framework)), { maxBytes: MAX_BYTES }),
      );
      expect(again).to.deep.equal(framework);
    });

    it('when values arrive as null, numeric strings or a comma list, then they are read leniently', () => {
      const text = pkg(
        [item(1, { notes: null, educationLevel: '06, 07', listEnumeration: 3 })],
        [{ ...childOf(guid(1), DOC), sequenceNumber: '4' }],
      );
      const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(framework.items[0]).to.include({ listEnumeration: '3' });
      expect(framework.items[0]?.educationLevels).to.deep.equal(['06', '07']);
      expect(framework.items[0]).to.not.have.property('notes');
      expect(framework.associations[0]?.sequenceNumber).to.equal(4);
    });

    it('when the file starts with a byte-order mark, then it still parses', () => {
      const text = `\uFEFF${pkg([item(1)], [childOf(guid(1), DOC, 1)])}`;
      expect(parseCasePackage(text, { maxBytes: MAX_BYTES }).ok).to.equal(true);
    });
  });

  describe('errors', () => {
    it('when the file is larger than maxBytes, then file_too_large is the only error', () => {
      const text = pkg([item(1)], []);
      const errors = errorsOf(parseCasePackage(text, { maxBytes: 100 }));
      expect(errors.map((e) => e.code)).to.deep.equal(['file_too_large']);
      expect(errors[0]?.message).to.match(/limit/);
    });

    it('when the JSON is broken, then invalid_json names the line', () => {
      const text = '{\n  "CFDocument": {\n    "title": "x",\n  }\n}';
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({ code: 'invalid_json', line: 4 });
    });

    it('when the JSON has no CFDocument, then not_a_case_package', () => {
      for (const text of ['{"CFItems": []}', '[]', '"text"', 'null']) {
        const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
        expect(
          errors.map((e) => e.code),
          text,
        ).to.deep.equal(['not_a_case_package']);
      }
    });

    it('when CFItems is not a list, then not_a_case_package', () => {
      const text = JSON.stringify({
        CFDocument: { identifier: DOC, uri: 'u', title: 't', creator: 'c' },
        CFItems: {},
      });
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors[0]).to.include({ code: 'not_a_case_package', path: 'CFItems' });
    });

    it('when the document or an item lacks a required field, then missing_field names it', () => {
      const itemWithoutUri = without(item(1), 'uri');
      const text = pkg([itemWithoutUri], [childOf(guid(1), DOC, 1)], { title: undefined });
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => [e.code, e.path])).to.deep.equal([
        ['missing_field', 'CFDocument.title'],
        ['missing_field', 'CFItems[0].uri'],
      ]);
      expect(errors[1]?.itemGuid).to.equal(guid(1));
    });

    it('when a value has the wrong type, then invalid_value names the field', () => {
      const text = pkg(
        [item(1, { educationLevel: 6 })],
        [{ ...childOf(guid(1), DOC), sequenceNumber: 'first' }],
      );
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => [e.code, e.path])).to.deep.equal([
        ['invalid_value', 'CFItems[0].educationLevel'],
        ['invalid_value', 'CFAssociations[0].sequenceNumber'],
      ]);
    });

    it('when an item has no statement or an empty one, then missing_statement', () => {
      const noStatement = without(item(1), 'fullStatement');
      const text = pkg(
        [noStatement, item(2, { fullStatement: '   ' })],
        [childOf(guid(1), DOC, 1), childOf(guid(2), DOC, 2)],
      );
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => [e.code, e.itemGuid])).to.deep.equal([
        ['missing_statement', guid(1)],
        ['missing_statement', guid(2)],
      ]);
    });

    it('when two items share a GUID with different statements, then duplicate_guid', () => {
      const text = pkg(
        [item(1), item(1, { fullStatement: 'Something else' })],
        [childOf(guid(1), DOC, 1)],
      );
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => [e.code, e.itemGuid, e.path])).to.deep.equal([
        ['duplicate_guid', guid(1), 'CFItems[1].identifier'],
      ]);
    });

    it('when an item reuses the document GUID, then duplicate_guid', () => {
      const text = pkg([{ ...item(1), identifier: DOC }], []);
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => e.code)).to.deep.equal(['duplicate_guid']);
    });

    it('when two associations share a GUID but link different items, then duplicate_guid', () => {
      const first = childOf(guid(1), DOC, 1);
      const second = { ...childOf(guid(2), DOC, 2), identifier: first.identifier };
      const text = pkg([item(1), item(2)], [first, second]);
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => [e.code, e.path])).to.deep.equal([
        ['duplicate_guid', 'CFAssociations[1].identifier'],
      ]);
    });

    it('when isChildOf points at a node that is not in the package, then unknown_parent', () => {
      const text = pkg([item(1)], [childOf(guid(1), guid(99), 1)]);
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => [e.code, e.itemGuid, e.path])).to.deep.equal([
        ['unknown_parent', guid(1), 'CFAssociations[0].destinationNodeURI'],
      ]);
      expect(errors[0]?.message).to.contain(guid(99));
    });

    it('when isChildOf links form a loop, then cycle names the items', () => {
      const text = pkg(
        [item(1), item(2), item(3), item(4)],
        [
          childOf(guid(1), guid(2), 1),
          childOf(guid(2), guid(3), 1),
          childOf(guid(3), guid(1), 1),
          childOf(guid(4), DOC, 1),
        ],
      );
      const errors = errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => e.code)).to.deep.equal(['cycle']);
      expect(errors[0]?.message).to.contain('C.1').and.contain('C.2').and.contain('C.3');
    });

    it('when an item is its own parent, then cycle', () => {
      const text = pkg([item(1)], [childOf(guid(1), guid(1), 1)]);
      expect(
        errorsOf(parseCasePackage(text, { maxBytes: MAX_BYTES })).map((e) => e.code),
      ).to.deep.equal(['cycle']);
    });

    it('when there are many problems, then all are reported up to the cap, the last saying so', () => {
      const items = Array.from({ length: MAX_IMPORT_ERRORS + 20 }, (_, i) =>
        item(i + 1, { fullStatement: '' }),
      );
      const errors = errorsOf(parseCasePackage(pkg(items, []), { maxBytes: MAX_BYTES }));
      expect(errors).to.have.length(MAX_IMPORT_ERRORS + 1);
      expect(errors.slice(0, -1).every((e) => e.code === 'missing_statement')).to.equal(true);
      expect(errors.at(-1)?.code).to.equal('too_many_errors');
    });
  });

  describe('the every-field fixture (CASE 1.1)', () => {
    const text = readFileSync(
      new URL('../../fixtures/case/every-field.case.json', import.meta.url),
      'utf8',
    );

    it('when imported, then every field is read, CASE 1.1 fields included', () => {
      const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      expect(framework).to.include({
        caseVersion: '1.1',
        frameworkType: 'Standards',
        version: '1.1.0',
        adoptionStatus: 'Adopted',
        officialSourceUrl: 'https://example.org/every-field',
        statusStartDate: '2025-01-01',
        language: 'en',
        notes: 'Document notes.',
      });
      expect(framework.subject).to.deep.equal(['Mathematics']);
      expect(framework.subjectRefs[0]?.title).to.equal('Mathematics');
      expect(framework.licence?.title).to.equal('CC BY 4.0');
      expect(framework.extensions).to.deep.equal({ 'x-district-code': 'EF-2025' });

      const domain = framework.items.find((i) => i.code === 'EF.A');
      expect(domain).to.include({
        fullStatement: 'Top-level domain with **Markdown** and a CRLF line break.\r\nSecond line.',
        abbreviatedStatement: 'Domain A',
        alternativeLabel: 'Domain A (alt)',
        itemType: 'Domain',
        listEnumeration: '1',
        notes: 'Item notes.',
        language: 'en',
        statusStartDate: '2025-01-01',
        statusEndDate: '2030-12-31',
        lastChangeDateTime: '2025-05-01T10:00:00+00:00',
      });
      expect(domain?.educationLevels).to.deep.equal(['KG', '01', '06']);
      expect(domain?.conceptKeywords).to.deep.equal(['ratio', 'rate']);
      expect(domain?.conceptKeywordsRef?.title).to.equal('Proportional reasoning');
      expect(domain?.licenceRef?.title).to.equal('CC BY 4.0');
      expect(domain?.itemTypeRef?.title).to.equal('Standard');
      expect(domain?.extensions).to.deep.equal({ 'x-district-reviewed': true });

      expect(new Set(framework.associations.map((a) => a.type))).to.deep.equal(
        new Set([
          'isChildOf',
          'exactMatchOf',
          'isRelatedTo',
          'precedes',
          'isPeerOf',
          'hasSkillLevel',
          'replacedBy',
          'exemplar',
          'isPartOf',
        ]),
      );
      const exact = framework.associations.find((a) => a.type === 'exactMatchOf');
      expect(exact?.notes).to.equal('Matches the state standard.');
      expect(exact?.groupingRef?.title).to.equal('Progressions');
      expect(exact?.destination.title).to.equal('External standard');

      expect(framework.definitions.concepts).to.have.length(1);
      expect(framework.definitions.subjects).to.have.length(1);
      expect(framework.definitions.licences[0]).to.include({
        licenseText: 'Creative Commons Attribution 4.0',
      });
      expect(framework.definitions.itemTypes[0]).to.include({ typeCode: 'Standard' });
      expect(framework.definitions.associationGroupings).to.have.length(1);
      expect(framework.rubrics[0]?.title).to.equal('Four-level rubric');
      expect(framework.rubrics[0]?.CFRubricCriteria).to.be.an('array').with.length(1);
    });

    it('when imported, then the item under two parents follows the lower sequence number, and unnumbered siblings come last', () => {
      const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      const byCode = (code: string) => framework.items.find((i) => i.code === code);
      const clusterB = byCode('EF.A.B');
      expect(byCode('EF.A.B.1')).to.include({ parentGuid: clusterB?.guid, order: 2 });
      expect(framework.items.find((i) => i.code === undefined)).to.include({
        parentGuid: clusterB?.guid,
        order: 1,
      });
      const domainD = byCode('EF.D');
      expect(domainD).to.include({ parentGuid: null, order: 2 });
      expect(byCode('EF.D.2')).to.include({ parentGuid: domainD?.guid, order: 1 });
      expect(byCode('EF.D.1')).to.include({ parentGuid: domainD?.guid, order: 2 });
    });

    it('when exported, then it is a CASE 1.1 package and imports back unchanged', () => {
      const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
      const exported = exportCasePackage(framework);
      expect(exported.CFDocument).to.include({ caseVersion: '1.1', frameworkType: 'Standards' });
      expect(exported.CFItems[0]).to.include({
        alternativeLabel: 'Domain A (alt)',
        humanCodingScheme: 'EF.A',
      });
      const again = frameworkOf(
        parseCasePackage(JSON.stringify(exported), { maxBytes: MAX_BYTES }),
      );
      expect(again).to.deep.equal(framework);
    });

    it('when the same fields appear in a package that does not declare 1.1, then they are kept as extensions and exported unchanged', () => {
      const raw = JSON.parse(text) as { CFDocument: Record<string, unknown> };
      delete raw.CFDocument.caseVersion;
      raw.CFDocument.uri = 'https://case.example.org/ims/case/v1p0/CFDocuments/x';
      const framework = frameworkOf(parseCasePackage(JSON.stringify(raw), { maxBytes: MAX_BYTES }));
      expect(framework.caseVersion).to.equal('1.0');
      expect(framework.frameworkType).to.equal(undefined);
      expect(framework.extensions).to.include({ frameworkType: 'Standards' });
      expect(framework.items[0]?.alternativeLabel).to.equal(undefined);
      expect(framework.items[0]?.extensions).to.include({ alternativeLabel: 'Domain A (alt)' });
      const exported = exportCasePackage(framework);
      expect(exported.CFDocument).to.not.have.property('caseVersion');
      expect(exported.CFItems[0]).to.include({ alternativeLabel: 'Domain A (alt)' });
      const again = frameworkOf(
        parseCasePackage(JSON.stringify(exported), { maxBytes: MAX_BYTES }),
      );
      expect(again).to.deep.equal(framework);
    });
  });
});

describe('exportCasePackage', () => {
  it('when a framework built in the app has no isChildOf associations, then the export writes them from parentGuid and order', () => {
    const framework = frameworkOf(
      parseCasePackage(
        pkg(
          [item(1), item(2), item(3)],
          [childOf(guid(1), DOC, 1), childOf(guid(2), guid(1), 2), childOf(guid(3), guid(1), 1)],
        ),
        { maxBytes: MAX_BYTES },
      ),
    );
    const authored: Framework = { ...framework, associations: [] };
    const again = frameworkOf(
      parseCasePackage(JSON.stringify(exportCasePackage(authored)), { maxBytes: MAX_BYTES }),
    );
    expect(again.items.map((i) => [i.guid, i.parentGuid, i.order])).to.deep.equal(
      framework.items.map((i) => [i.guid, i.parentGuid, i.order]),
    );
  });
});

describe('the district grade 6 sample', () => {
  const text = readFileSync(
    new URL('../../../src/standards/samples/district-grade6.case.json', import.meta.url),
    'utf8',
  );

  it('when imported, then it is a CASE 1.0 framework of domains, clusters and standards with the CCSS attribution', () => {
    const result = parseCasePackage(text, { maxBytes: MAX_BYTES });
    const framework = frameworkOf(result);
    expect(result.ok && result.warnings).to.deep.equal([]);
    expect(framework.caseVersion).to.equal('1.0');
    expect(framework.items.length).to.be.within(40, 60);
    expect(framework.notes).to.contain('National Governors Association Center for Best Practices');
    expect(framework.notes).to.contain('Council of Chief State School Officers');
    const byCode = new Map(framework.items.map((i) => [i.code, i]));
    const standard = byCode.get('6.RP.A.1');
    const cluster = byCode.get('6.RP.A');
    expect(standard?.parentGuid).to.equal(cluster?.guid);
    expect(cluster?.parentGuid).to.equal(byCode.get('6.RP')?.guid);
    expect(byCode.get('6.RP')?.parentGuid).to.equal(null);
    expect(byCode.get('RL.6.1')?.itemType).to.equal('Standard');
    expect(new Set(framework.items.map((i) => i.itemType))).to.deep.equal(
      new Set(['Domain', 'Cluster', 'Standard', 'Strand']),
    );
  });

  it('when exported, then it imports back unchanged', () => {
    const framework = frameworkOf(parseCasePackage(text, { maxBytes: MAX_BYTES }));
    const again = frameworkOf(
      parseCasePackage(JSON.stringify(exportCasePackage(framework)), { maxBytes: MAX_BYTES }),
    );
    expect(again).to.deep.equal(framework);
  });
});
