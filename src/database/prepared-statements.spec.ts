import { PreparedStatements } from './prepared-statements';

describe(PreparedStatements.name, () => {
  it('gives each distinct text one stable name and passes the values through', () => {
    const sut = new PreparedStatements('t_');
    const first = sut.name({ text: 'SELECT $1', values: [1] });
    const again = sut.name({ text: 'SELECT $1', values: [2] });
    const other = sut.name({ text: 'SELECT $1, $2', values: [1, 2] });
    expect(first).toEqual({ name: 't_0', text: 'SELECT $1', values: [1] });
    expect(again).toEqual({ name: 't_0', text: 'SELECT $1', values: [2] });
    expect(other.name).toBe('t_1');
  });

  it('runs texts beyond its capacity unnamed, so clients cannot grow the statements kept per connection', () => {
    const sut = new PreparedStatements('t_', 2);
    sut.name({ text: 'a', values: [] });
    sut.name({ text: 'b', values: [] });
    expect(sut.name({ text: 'c', values: [] })).toEqual({ text: 'c', values: [] });
    expect(sut.name({ text: 'a', values: [] }).name).toBe('t_0');
  });
});
