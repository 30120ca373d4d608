import type { Filter } from '../js-result/conditions/condition.types';
import { SubscriptionIndex } from './subscription.index';

interface Sub {
  name: string;
  filters: Filter[];
}

const named = (name: string, ...workers: string[]): Sub => ({
  name,
  filters: [{ kind: 'run_type', value: 'call' }, ...workers.map((value) => ({ kind: 'js_worker_name' as const, value }))],
});
const anyWorker = (name: string): Sub => ({ name, filters: [{ kind: 'is_success' }] });
const names = (subs: Sub[]) => subs.map((s) => s.name);

describe(SubscriptionIndex.name, () => {
  let sut: SubscriptionIndex<Sub>;

  beforeEach(() => {
    sut = new SubscriptionIndex<Sub>();
  });

  it('offers a row only the subscriptions naming its worker and those naming none, in the order added', () => {
    const subs = [named('a1', 'a'), anyWorker('all1'), named('b1', 'b'), named('a2', 'a'), anyWorker('all2')];
    subs.forEach((s) => sut.add(s));

    expect(names(sut.candidates('a'))).toEqual(['a1', 'a2', 'all1', 'all2']);
    expect(names(sut.candidates('b'))).toEqual(['b1', 'all1', 'all2']);
    expect(names(sut.candidates('c'))).toEqual(['all1', 'all2']);
    expect(sut.size).toBe(5);
  });

  it('files a subscription under the first worker its conditions name (two names can match nothing else)', () => {
    sut.add(named('ab', 'a', 'b'));

    expect(names(sut.candidates('a'))).toEqual(['ab']);
    expect(names(sut.candidates('b'))).toEqual([]);
  });

  it('forgets removed subscriptions, and removing one twice or one never added changes nothing', () => {
    const a = named('a1', 'a');
    const all = anyWorker('all');
    sut.add(a);
    sut.add(all);

    sut.remove(a);
    sut.remove(a);
    sut.remove(named('x', 'a'));
    expect(names(sut.candidates('a'))).toEqual(['all']);
    sut.remove(all);
    expect(names(sut.candidates('a'))).toEqual([]);
    expect(sut.size).toBe(0);
  });

  it('hands out a copy: subscriptions added or removed while a row is delivered do not disturb it', () => {
    const a = named('a1', 'a');
    sut.add(a);
    const candidates = sut.candidates('a');

    sut.remove(a);
    sut.add(named('a2', 'a'));
    expect(names(candidates)).toEqual(['a1']);
  });

  it('tells worker names apart exactly (case and spaces count, as in SQL)', () => {
    sut.add(named('lower', 'a'));

    expect(sut.candidates('A')).toEqual([]);
    expect(sut.candidates('a ')).toEqual([]);
  });
});
