import { Client } from 'pg';
import type { Statement } from '../src/js-result/js-result.statements';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

export interface PlanCheck {
  /** Every scan of js_result and the index it used, e.g. "Index Scan idx_js_result_worker_newest". */
  scans: string[];
  /** Rows fed into each Sort node. */
  sortInputs: number[];
  /** No sequential or bitmap (unordered) scan of js_result. */
  indexOnly: boolean;
  /** No Sort node received more rows than a top-N plan needs. */
  noFullSort: boolean;
}

export interface Explained {
  text: string;
  check: PlanCheck;
}

function walk(node: PlanNode, visit: (node: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

const rowsOut = (node: PlanNode) => (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1);

export function checkPlan(root: PlanNode, sortBound: number): PlanCheck {
  const scans: string[] = [];
  const sortInputs: number[] = [];
  let indexOnly = true;
  walk(root, (node) => {
    if (node['Relation Name'] === 'js_result') {
      scans.push(node['Index Name'] ? `${node['Node Type']} ${node['Index Name']}` : node['Node Type']);
      if (node['Node Type'] === 'Seq Scan' || node['Node Type'] === 'Bitmap Heap Scan') indexOnly = false;
    }
    if (node['Node Type'].endsWith('Sort')) {
      sortInputs.push((node.Plans ?? []).reduce((sum, child) => sum + rowsOut(child), 0));
    }
  });
  return { scans: [...new Set(scans)], sortInputs, indexOnly, noFullSort: sortInputs.every((n) => n <= sortBound) };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of a statement with its values bound, the way the
 * service sends it. A DELETE runs inside a transaction that is rolled back.
 * The JSON form (for the checks) runs first, so the recorded text is warm.
 */
export async function explain(url: string, statement: Statement, sortBound: number): Promise<Explained> {
  const client = new Client({ connectionString: url, application_name: 'jsr-bench-explain' });
  await client.connect();
  try {
    await client.query('BEGIN');
    const json = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`, statement.values);
    const plan = (json.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan;
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    const text = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
    await client.query('ROLLBACK');
    return { text: text.rows.map((r) => r['QUERY PLAN']).join('\n'), check: checkPlan(plan, sortBound) };
  } finally {
    await client.end();
  }
}
