import fc from 'fast-check';
import { isBefore, MIN_ID, type RowKey } from '../js-result/row-key';

/** The newest-first order as a sort: not-started first, then start_time DESC, then id DESC. */
function compare(a: RowKey, b: RowKey): number {
  if ((a.startTime === null) !== (b.startTime === null)) return a.startTime === null ? -1 : 1;
  if (a.startTime !== null && b.startTime !== null && a.startTime !== b.startTime) return Number(b.startTime) - Number(a.startTime);
  return Number(BigInt(b.id) - BigInt(a.id));
}

describe(isBefore.name, () => {
  const sut = isBefore;
  const key = (startTime: number | null, id: string | number): RowKey => ({ startTime: startTime === null ? null : String(startTime), id: String(id) });

  it('puts not-started rows first, then the later start, then the higher id', () => {
    expect(sut(key(null, 1), key(5, 9))).toBe(true);
    expect(sut(key(5, 9), key(null, 1))).toBe(false);
    expect(sut(key(6, 1), key(5, 9))).toBe(true);
    expect(sut(key(5, 9), key(5, 8))).toBe(true);
    expect(sut(key(5, 8), key(5, 8))).toBe(false);
  });

  it('puts every row of a start time before the cut-off key of that time', () => {
    expect(sut(key(5, -5), key(5, MIN_ID))).toBe(true);
  });

  it('is the strict order of the sort readers use', () => {
    const k = fc.record({ startTime: fc.option(fc.integer({ min: 0, max: 3 }).map(String), { nil: null }), id: fc.integer({ min: -3, max: 3 }).map(String) });
    fc.assert(fc.property(k, k, (a, b) => expect(sut(a, b)).toBe(compare(a, b) < 0)));
  });
});
