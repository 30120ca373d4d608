/** Short rendering of a client's value for an error message; never echoes much. */
export function describeJson(value: unknown): string {
  let text: string;
  if (typeof value === 'bigint') text = value.toString();
  else if (value === undefined) text = 'nothing';
  else {
    try {
      text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
