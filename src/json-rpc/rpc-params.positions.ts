/**
 * Where each param goes in a positional call (`"params": [...]`), declared on
 * the DTO field that reads it, so the DTO is the one place a method's params
 * are named.
 *
 * The position is written on each field (`@Positional(0)`) rather than taken
 * from the declaration order, because that order is already the order params
 * are checked in (the first failure is the one reported): the credential is
 * declared last but sent first, and js-worker's create and update check their
 * params in NodeGet's order while their positional lists only ever grew at
 * the end. A position is part of the contract, like a field number: it is
 * never reused or renumbered.
 */

/** What the decorators of one property said about it. */
interface ParamField {
  /** The wire name it reads (`@Param`, `@ParsedBy`). */
  wireName?: string;
  /** Its place in a positional call (`@Positional`). */
  position?: number;
  /** A class whose params it gathers from the flat wire params (`@ParamGroup`). */
  group?: Function;
}

/** A param of a resolved DTO: its wire name, position and where it is declared, for messages. */
interface DeclaredParam {
  wireName: string;
  position: number | undefined;
  declaredAt: string;
}

/** Per class, its own decorated properties (a subclass also has its parents'). */
const fieldsByClass = new WeakMap<Function, Map<string | symbol, ParamField>>();

function note(target: object, key: string | symbol, field: ParamField): void {
  const owner = target.constructor;
  const fields = fieldsByClass.get(owner) ?? new Map<string | symbol, ParamField>();
  fields.set(key, { ...fields.get(key), ...field });
  fieldsByClass.set(owner, fields);
}

/** Called by the param decorators (`@Param`, `@ParsedBy`): which wire param a property reads. */
export function recordWireName(target: object, key: string | symbol, wireName: string): void {
  note(target, key, { wireName });
}

/** The param's place in a positional call, from 0. Every param of a DTO has one; together they run 0..n-1. */
export function Positional(position: number): PropertyDecorator {
  if (!Number.isSafeInteger(position) || position < 0) throw new Error(`@Positional(${position}): a position is an integer from 0`);
  return (target, key) => note(target, key, { position });
}

/**
 * A property built from several flat wire params, each declared (with its
 * position) on `group`'s fields: they count as the DTO's own params.
 */
export function ParamGroup(group: Function): PropertyDecorator {
  return (target, key) => note(target, key, { group });
}

/** The class and its ancestors, the most basic first, so that a subclass's declarations win. */
function lineage(dtoClass: Function): Function[] {
  const chain: Function[] = [];
  for (let current: unknown = dtoClass; typeof current === 'function' && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    chain.unshift(current as Function);
  }
  return chain;
}

function declaredParams(dtoClass: Function): DeclaredParam[] {
  const merged = new Map<string | symbol, ParamField & { owner: string }>();
  for (const owner of lineage(dtoClass)) {
    for (const [key, field] of fieldsByClass.get(owner) ?? []) merged.set(key, { ...merged.get(key), ...field, owner: owner.name });
  }
  const params: DeclaredParam[] = [];
  for (const [key, { wireName, position, group, owner }] of merged) {
    const declaredAt = `${owner}.${String(key)}`;
    if (group !== undefined) params.push(...declaredParams(group));
    else if (wireName !== undefined) params.push({ wireName, position, declaredAt });
    else throw new Error(`${declaredAt} has @Positional(${position}) but reads no param (it has no @Param or @ParsedBy)`);
  }
  return params;
}

function checkedPositions(dtoClass: Function): readonly string[] {
  const params = declaredParams(dtoClass);
  const unplaced = params.find((param) => param.position === undefined);
  if (unplaced !== undefined) {
    throw new Error(`${unplaced.declaredAt} (param "${unplaced.wireName}") has no position in positional calls: give it @Positional(n)`);
  }
  const names = new Map<string, DeclaredParam>();
  for (const param of params) {
    const twice = names.get(param.wireName);
    if (twice !== undefined) throw new Error(`param "${param.wireName}" is read by both ${twice.declaredAt} and ${param.declaredAt}`);
    names.set(param.wireName, param);
  }
  const ordered = [...params].sort((a, b) => a.position! - b.position!);
  ordered.forEach((param, i) => {
    if (param.position !== i) {
      const declared = ordered.map((p) => `${p.position} ${p.wireName}`).join(', ');
      throw new Error(`${dtoClass.name}: positions must run from 0 to ${ordered.length - 1}, each once; declared: ${declared}`);
    }
  });
  return ordered.map((param) => param.wireName);
}

/** Per DTO class, resolved once: decorators have all run by the time a class is asked about. */
const resolved = new WeakMap<Function, readonly string[]>();

/**
 * The wire names of a DTO's params in positional order. Throws, naming the
 * class and property, when a param has no position, two share one, or
 * positions skip a place: such a DTO would map positional calls wrongly.
 */
export function positionalParams(dtoClass: Function): readonly string[] {
  let names = resolved.get(dtoClass);
  if (names === undefined) {
    names = Object.freeze(checkedPositions(dtoClass));
    resolved.set(dtoClass, names);
  }
  return names;
}
