import { BoundedMap } from './bounded-map';

describe(BoundedMap.name, () => {
  it('forgets the entry set longest ago once full', () => {
    const sut = new BoundedMap<string, number>(2);
    sut.set('a', 1).set('b', 2).set('c', 3);
    expect([...sut.entries()]).toEqual([['b', 2], ['c', 3]]);
  });

  it('counts a key set again as the newest', () => {
    const sut = new BoundedMap<string, number>(2);
    sut.set('a', 1).set('b', 2).set('a', 10).set('c', 3);
    expect([...sut.entries()]).toEqual([['a', 10], ['c', 3]]);
  });
});
