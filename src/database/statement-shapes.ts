import type { ObjectLiteral, QueryBuilder } from 'typeorm';
import { BoundedMap } from '../common/bounded-map';
import type { Statement } from './statement';

/**
 * Where a shape's parameter takes its value from: the shape is built once with
 * these in place of values, and TypeORM's placeholder order is read off them.
 * `index` is the position in the call's argument array (see fill).
 */
export class Slot {
  constructor(readonly index: number) {}
}

/** A statement text, and for each of its placeholders $1, $2, … the call argument that fills it. */
export interface Shape {
  text: string;
  slots: readonly number[];
}

/** Reads a built statement's text and placeholder order; every parameter must be a Slot. */
export function toShape(qb: QueryBuilder<ObjectLiteral>): Shape {
  const [text, parameters] = qb.getQueryAndParameters();
  const slots = parameters.map((parameter) => {
    if (parameter instanceof Slot) return parameter.index;
    throw new Error(`a statement shape was built with the value ${String(parameter)}: every call would reuse it`);
  });
  return { text, slots };
}

/** The statement of one call: the shape's text, its placeholders filled from `args` (indexed as the slots are). */
export function fill(shape: Shape, args: readonly unknown[]): Statement {
  const values = new Array<unknown>(shape.slots.length);
  for (let i = 0; i < values.length; i++) values[i] = args[shape.slots[i]];
  return { text: shape.text, values };
}

/** Where built texts are registered as named statements: PreparedStatements, or Database.prepare. */
export interface TextRegistry {
  register(text: string): unknown;
}

/** Rewrites a built text once (its placeholder count given), before it is registered. */
export type FinishText = (text: string, placeholders: number) => string;

/**
 * Statement shapes built with TypeORM's QueryBuilder once and reused: a
 * shape's text depends only on its key (which the caller makes from what
 * changes the text, never from values), so a call only looks it up and fills
 * its values in. Each text is registered as a named statement when built
 * (parsed once per connection), never per call. At most `capacity` shapes are
 * kept; beyond them the least recently built is built again when next used.
 */
export class StatementShapes {
  private readonly shapes: BoundedMap<string, Shape>;

  constructor(
    private readonly registry: TextRegistry | undefined,
    capacity: number,
  ) {
    this.shapes = new BoundedMap(capacity);
  }

  get(key: string, build: () => QueryBuilder<ObjectLiteral>, finish?: FinishText): Shape {
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      shape = toShape(build());
      if (finish) shape = { ...shape, text: finish(shape.text, shape.slots.length) };
      this.registry?.register(shape.text);
      this.shapes.set(key, shape);
    }
    return shape;
  }
}

/**
 * Another statement's text with its placeholders moved up by `offset`, so that
 * it can follow `offset` values of the statement it is composed into (one
 * module's part of a statement another module runs). Call it when the
 * composed text is built, not per call.
 */
export function shiftPlaceholders(text: string, offset: number): string {
  return offset === 0 ? text : text.replace(/\$(\d+)/g, (_match, n: string) => `$${Number(n) + offset}`);
}
