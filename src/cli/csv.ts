// Reading the CSV files admins export: a byte-order mark, quoted fields, extra columns and blank
// lines are all fine; every row keeps its line number so problems can be reported by line.
import { parse } from 'csv-parse/sync';

export interface CsvRow {
  line: number;
  /** Columns by lower-cased, trimmed header name. */
  values: Record<string, string>;
}

/** Files larger than this are refused: split them. */
export const csv_rows_max = 200_000;

export function readCsv(text: string): CsvRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      relax_column_count: true,
      // Consoles export names such as Dwayne "The Rock" Johnson without quoting the field.
      relax_quotes: true,
      trim: true,
      info: true,
    });
  } catch (error) {
    // A broken quote swallows the rows after it, so no row can be trusted: refuse the file,
    // before anything is written, and say where to look.
    throw new Error(`the CSV file cannot be read: ${(error as Error).message}; check the quoting up to that line and import the file again (nothing was imported)`);
  }
  if (records.length > csv_rows_max) throw new Error(`the file has ${records.length} rows; split it into files of at most ${csv_rows_max}`);
  return records.map(({ record, info }) => ({ line: info.lines, values: record }));
}

/** The first of several possible column names that the file has. */
export function column(row: CsvRow, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = row.values[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}
