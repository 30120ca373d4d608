/** The statement builder with the plain-rows form tests compare (it lives with the bench, its other user). */
export { RowsStatements } from '../../bench/rows-statements';
