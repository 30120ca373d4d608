/**
 * A Map holding at most `capacity` entries: setting a new key when it is full
 * forgets the entry set longest ago. Setting a key again makes it the newest.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    if (this.size >= this.capacity) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
