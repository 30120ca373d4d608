/** A statement for `dataSource.query(text, values)`; every client value is in `values`, never in the text. */
export interface Statement {
  text: string;
  values: unknown[];
}
