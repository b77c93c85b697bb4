import { expect } from 'chai';
import { calculateMastery, DEFAULT_PROFICIENCY_SCALE } from '../../../src/mastery/index.ts';
import {
  canvasOutcomeMethod,
  parseStandardsCsv,
  type CsvImportResult,
} from '../../../src/standards/formats/csv-import.ts';
import type { Framework, ImportError } from '../../../src/domain/standards-model.ts';

const MAX_BYTES = 1024 * 1024;
const HEADER =
  'vendor_guid,object_type,title,description,display_name,calculation_method,calculation_int,workflow_state,parent_guids,mastery_points,ratings,,,';

function csvWith(...outcomes: string[]): string {
  return [HEADER, 'g,group,Group,,,,,active,,,,,,', ...outcomes].join('\r\n');
}

function frameworkOf(result: CsvImportResult): Framework {
  if (!result.ok) throw new Error(`import failed: ${JSON.stringify(result.errors, null, 2)}`);
  return result.framework;
}

function errorsOf(result: CsvImportResult): readonly ImportError[] {
  if (result.ok) throw new Error('expected the import to fail');
  return result.errors;
}

function methodOf(row: string) {
  const framework = frameworkOf(parseStandardsCsv(csvWith(row), { maxBytes: MAX_BYTES }));
  const outcome = framework.items.find((item) => item.guid === 'o');
  return { canvas: outcome?.canvas, method: canvasOutcomeMethod(outcome?.canvas) };
}

describe('Canvas outcomes CSV: calculation methods as Canvas means them', () => {
  it('when a row says weighted_average (what current Canvas writes), then it is imported as Canvas’s legacy weighted average', () => {
    const { canvas, method } = methodOf(
      'o,outcome,Ratios,,R-1,weighted_average,65,active,g,3,4,Exceeds,3,Meets',
    );
    expect(canvas?.calculationMethod).to.equal('weighted_average');
    expect(method).to.deep.equal({ kind: 'canvasLegacyDecaying', weight: 0.65 });
  });

  it('when a row says decaying_average, then it is the same legacy method, not the recursive decaying average', () => {
    const { method } = methodOf(
      'o,outcome,Ratios,,R-1,decaying_average,65,active,g,3,4,Exceeds,3,Meets',
    );
    expect(method).to.deep.equal({ kind: 'canvasLegacyDecaying', weight: 0.65 });
    // Canvas's own worked example: 1, 2, 3, 4 → 0.65 × 4 + 0.35 × mean(1, 2, 3) = 3.30.
    const evidence = [1, 2, 3, 4].map((score, i) => ({
      id: `e${i}`,
      score,
      recordedAt: new Date(Date.UTC(2026, 8, 1 + i)),
      excused: false,
    }));
    const result = calculateMastery(
      evidence,
      { method, minEvidence: 1, orderBy: 'recorded', rounding: { mode: 'halfUp', decimals: 2 } },
      DEFAULT_PROFICIENCY_SCALE,
    );
    expect(result.value).to.equal(3.3);
  });

  it('when a row says standard_decaying_average, then it is the recursive decaying average at that rate', () => {
    const { method } = methodOf(
      'o,outcome,Ratios,,R-1,standard_decaying_average,75,active,g,3,4,Exceeds,3,Meets',
    );
    expect(method).to.deep.equal({ kind: 'recursiveDecaying', rate: 0.75 });
  });

  it('when a row says n_mastery, then n is calculation_int and the threshold the outcome’s mastery points', () => {
    const { method } = methodOf('o,outcome,Ratios,,R-1,n_mastery,2,active,g,3,4,Exceeds,3,Meets');
    expect(method).to.deep.equal({ kind: 'nTimes', n: 2, threshold: 3 });
  });

  it('when a row says highest, latest or average, or nothing, then the matching method (nothing: highest, as Canvas imports it)', () => {
    expect(methodOf('o,outcome,R,,R-1,highest,,active,g,,,,,').method).to.deep.equal({
      kind: 'highest',
    });
    expect(methodOf('o,outcome,R,,R-1,latest,,active,g,,,,,').method).to.deep.equal({
      kind: 'mostRecent',
    });
    expect(methodOf('o,outcome,R,,R-1,average,,active,g,,,,,').method).to.deep.equal({
      kind: 'mean',
    });
    expect(methodOf('o,outcome,R,,R-1,,,active,g,,,,,').method).to.deep.equal({ kind: 'highest' });
  });

  it('when a weighted average gives no calculation_int, then Canvas’s default of 65 % applies', () => {
    expect(methodOf('o,outcome,R,,R-1,weighted_average,,active,g,,,,,').method).to.deep.equal({
      kind: 'canvasLegacyDecaying',
      weight: 0.65,
    });
  });

  it('when calculation_int lies outside what Canvas accepts for the method, then the line is refused in words', () => {
    const errors = errorsOf(
      parseStandardsCsv(
        csvWith(
          'o1,outcome,A,,A-1,standard_decaying_average,40,active,g,,,,,',
          'o2,outcome,B,,B-1,weighted_average,100,active,g,,,,,',
          'o3,outcome,C,,C-1,n_mastery,11,active,g,,,,,',
          'o4,outcome,D,,D-1,highest,3,active,g,,,,,',
        ),
        { maxBytes: MAX_BYTES },
      ),
    );
    expect(errors.map((e) => [e.line, e.field])).to.deep.equal([
      [3, 'calculation_int'],
      [4, 'calculation_int'],
      [5, 'calculation_int'],
      [6, 'calculation_int'],
    ]);
    expect(errors[0]?.message).to.equal(
      'Line 3: calculation_int for "standard_decaying_average" must be between 50 and 99, not 40.',
    );
    expect(errors[3]?.message).to.equal(
      'Line 6: calculation_method "highest" takes no calculation_int; leave it empty.',
    );
  });
});
