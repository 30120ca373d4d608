import type { WhereExpressionBuilder } from 'typeorm';

/** A column by entity property, qualified as the statement needs it. */
export type TermColumn<P extends string = string> = (property: P) => string;

/** Each condition kind of a family as a WHERE term over its entity's properties; `p` names its parameter. */
export type ConditionTerms<F extends { kind: string }, P extends string = string> = Record<
  F['kind'],
  (column: TermColumn<P>, p: string) => string
>;

export type ValuedOf<F> = Extract<F, { value: unknown }>;

export interface TermBinding<F> {
  /** The alias the terms qualify columns with; none for a DELETE, which TypeORM writes without one. */
  alias?: string;
  /** The parameter value of the `index`th condition; by default the condition's own value. */
  bind?: (filter: ValuedOf<F>, index: number) => unknown;
}

/** A condition's value as a parameter: 64-bit integers as decimal text, so none is rounded on the way. */
export function conditionValue(filter: { value: unknown }): unknown {
  return typeof filter.value === 'bigint' ? filter.value.toString() : filter.value;
}

/**
 * Adds every condition to the builder's WHERE (AND), each value as the bound
 * parameter `f<index>`, for any family of conditions and any WHERE builder
 * (a read's SELECT or a DELETE).
 */
export function applyConditionTerms<Q extends WhereExpressionBuilder, F extends { kind: string }, P extends string>(
  qb: Q,
  filters: readonly F[],
  terms: ConditionTerms<F, P>,
  { alias, bind = conditionValue }: TermBinding<F> = {},
): Q {
  const column: TermColumn<P> = alias ? (property) => `${alias}.${property}` : (property) => property;
  filters.forEach((filter, index) => {
    const param = `f${index}`;
    const term = terms[filter.kind as F['kind']](column, param);
    if ('value' in filter) qb.andWhere(term, { [param]: bind(filter as ValuedOf<F>, index) });
    else qb.andWhere(term);
  });
  return qb;
}
