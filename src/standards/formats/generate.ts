/**
 * Synthetic CASE packages for benchmarks and load tests (e.g. "20,000 items import in < 30 s").
 * Deterministic for a seed, so a slow run can be reproduced exactly.
 */

/** mulberry32: a tiny seeded PRNG; quality is ample for test data. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function guidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(random() * 4) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const WORDS = [
  'ratio',
  'rate',
  'fraction',
  'decimal',
  'percent',
  'equation',
  'expression',
  'variable',
  'inequality',
  'area',
  'volume',
  'surface',
  'polygon',
  'coordinate',
  'plane',
  'integer',
  'number',
  'line',
  'statistical',
  'question',
  'distribution',
  'median',
  'mean',
  'variability',
  'text',
  'evidence',
  'theme',
  'character',
  'plot',
  'point',
  'view',
  'argument',
  'claim',
  'narrative',
  'informative',
  'research',
  'source',
  'vocabulary',
  'context',
  'figurative',
  'language',
  'structure',
  'paragraph',
  'summary',
  'inference',
  'compare',
  'contrast',
  'solve',
  'model',
  'represent',
  'explain',
  'analyze',
  'determine',
  'interpret',
  'write',
  'cite',
];

const LEVELS = ['Domain', 'Cluster', 'Standard', 'Component'] as const;
/** Children per node at each level: 1 domain → 5 clusters → 4 standards → 4 components. */
const BRANCHING = [5, 4, 4] as const;

/**
 * A CASE 1.0 CFPackage (JSON text) with `count` items in a 4-level tree (Domain → Cluster →
 * Standard → Component), isChildOf associations with sequence numbers, and an isRelatedTo
 * association for every tenth item.
 */
export function generateLargeFramework(count: number, seed: number): string {
  const random = seededRandom(seed);
  const base = 'https://case.example.org/ims/case/v1p0';
  const documentGuid = guidFrom(random);
  const documentRef = {
    title: `Generated framework ${seed}`,
    identifier: documentGuid,
    uri: `${base}/CFDocuments/${documentGuid}`,
  };
  const when = '2026-01-01T00:00:00+00:00';
  const items: Record<string, unknown>[] = [];
  const associations: Record<string, unknown>[] = [];

  const sentence = (n: number): string => {
    const words = Array.from(
      { length: n },
      () => WORDS[Math.floor(random() * WORDS.length)] ?? 'number',
    );
    const text = words.join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  };
  const link = (guid: string, kind: string, title: string): Record<string, string> => ({
    title,
    identifier: guid,
    uri: `${base}/${kind}/${guid}`,
  });
  const addAssociation = (
    type: string,
    origin: Record<string, string>,
    destination: Record<string, string>,
    sequenceNumber?: number,
  ): void => {
    const guid = guidFrom(random);
    associations.push({
      identifier: guid,
      uri: `${base}/CFAssociations/${guid}`,
      lastChangeDateTime: when,
      CFDocumentURI: documentRef,
      originNodeURI: origin,
      associationType: type,
      destinationNodeURI: destination,
      ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
    });
  };

  // Depth-first, so a parent is always written before its children even when `count` cuts a subtree.
  const addNode = (
    level: number,
    code: string,
    parent: Record<string, string>,
    sequenceNumber: number,
  ): void => {
    if (items.length >= count) return;
    const guid = guidFrom(random);
    const levelName = LEVELS[level] ?? 'Component';
    items.push({
      identifier: guid,
      uri: `${base}/CFItems/${guid}`,
      lastChangeDateTime: when,
      CFDocumentURI: documentRef,
      humanCodingScheme: code,
      fullStatement: sentence(8 + Math.floor(random() * 12)),
      CFItemType: levelName,
      educationLevel: [String(1 + (items.length % 12)).padStart(2, '0')],
    });
    const self = link(guid, 'CFItems', code);
    addAssociation('isChildOf', self, parent, sequenceNumber);
    if (items.length % 10 === 0 && items.length > 1) {
      const other = items[Math.floor(random() * (items.length - 1))];
      if (
        other &&
        typeof other.identifier === 'string' &&
        typeof other.humanCodingScheme === 'string'
      ) {
        addAssociation(
          'isRelatedTo',
          self,
          link(other.identifier, 'CFItems', other.humanCodingScheme),
        );
      }
    }
    const branching = BRANCHING[level];
    if (branching === undefined) return;
    for (let i = 1; i <= branching; i++) addNode(level + 1, `${code}.${i}`, self, i);
  };

  for (let domain = 1; items.length < count; domain++) {
    addNode(0, `D${domain}`, documentRef, domain);
  }

  return JSON.stringify({
    CFDocument: {
      identifier: documentGuid,
      uri: documentRef.uri,
      lastChangeDateTime: when,
      CFPackageURI: { ...documentRef, uri: `${base}/CFPackages/${documentGuid}` },
      title: documentRef.title,
      creator: 'Mastery Pathways benchmark generator',
      subject: ['Mathematics'],
      adoptionStatus: 'Draft',
      language: 'en',
    },
    CFItems: items,
    CFAssociations: associations,
    CFDefinitions: {
      CFConcepts: [],
      CFSubjects: [],
      CFLicenses: [],
      CFItemTypes: [],
      CFAssociationGroupings: [],
    },
  });
}
