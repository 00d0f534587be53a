// Reading the CSV files admins export, from the bytes on disk: the encoding (UTF-8 with or without
// a byte-order mark, UTF-16 as Excel's "Unicode Text" saves it) and the delimiter (`,` `;` or tab)
// are detected, a file that is not text or lacks a column its caller needs is refused as a whole,
// and every row keeps its line number so problems can be reported by line.
import { parse } from 'csv-parse/sync';

/** Files larger than this are refused: split them. */
export const csv_rows_max = 200_000;
/** How much of a file's start is looked at to tell text from a binary file. */
const binary_sniff_bytes_max = 8_192;

/**
 * The import commands' exit codes: 0 every row is as the file says (applied now or before);
 * 1 some rows failed (the others were applied, the failed ones listed by line); 2 nothing was
 * done (a wrong argument, or a file refused as a whole: empty, not text, missing a column).
 */
export const import_exit = { ok: 0, rows_failed: 1, refused: 2 } as const;

/** A file refused as a whole, before anything is written; the message says what to do. */
export class CsvFileError extends Error {
  override name = 'CsvFileError';
}

export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';
export type CsvDelimiter = ',' | ';' | '\t';

/** A column a caller needs: found under any of its names (compared as `headerKey` compares). */
export interface CsvColumn {
  /** How a refusal names the column, e.g. `Email`. */
  label: string;
  /** Every header accepted for it, the label's own first. */
  names: readonly string[];
}

export interface CsvRow {
  /** The file's line the row starts on (1 = the header line). */
  line: number;
  /** Columns by `headerKey` of their header. */
  values: Record<string, string>;
}

export interface CsvFile {
  encoding: CsvEncoding;
  delimiter: CsvDelimiter;
  /** The header line's names as the file spells them. */
  columns: string[];
  rows: CsvRow[];
}

/**
 * A header as callers look it up: trimmed, lower-case, underscores and runs of spaces as one
 * space (`Event_ID`, `event id` and `Event  ID` are one column).
 */
export function headerKey(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_]+/g, ' ');
}

const empty_file = 'the file is empty: there is nothing to import (check that the export finished and name its file)';
const startsWith = (bytes: Uint8Array, ...prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/**
 * Text from a file's bytes. A byte-order mark decides (UTF-8, UTF-16 LE or BE, the last two as
 * Excel's "Unicode Text" saves); without one, UTF-16 is recognised by the zero byte beside each
 * ASCII character, and anything else must be valid UTF-8.
 * Throws CsvFileError for an empty or binary file (naming a workbook or archive as such) and
 * for text in another encoding (naming the line).
 */
export function decodeCsv(bytes: Uint8Array): { text: string; encoding: CsvEncoding } {
  if (bytes.length === 0) throw new CsvFileError(empty_file);
  if (startsWith(bytes, 0x50, 0x4b, 0x03, 0x04)) {
    throw new CsvFileError('the file is a zip archive such as an Excel workbook (.xlsx), not CSV: save it as "CSV UTF-8" and import that file');
  }
  if (startsWith(bytes, 0xd0, 0xcf, 0x11, 0xe0)) {
    throw new CsvFileError('the file is an old Excel workbook (.xls), not CSV: save it as "CSV UTF-8" and import that file');
  }
  let encoding: CsvEncoding;
  if (startsWith(bytes, 0xef, 0xbb, 0xbf)) encoding = 'utf-8';
  else if (startsWith(bytes, 0xff, 0xfe)) encoding = 'utf-16le';
  else if (startsWith(bytes, 0xfe, 0xff)) encoding = 'utf-16be';
  else {
    const sample = bytes.subarray(0, binary_sniff_bytes_max);
    const nul = sample.indexOf(0);
    encoding = nul === -1 ? 'utf-8' : utf16WithoutMark(sample) ?? binary(nul);
  }
  try {
    // TextDecoder drops the byte-order mark itself.
    return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes), encoding };
  } catch {
    const loose = new TextDecoder(encoding).decode(bytes);
    const line = loose.slice(0, loose.indexOf('\uFFFD')).split('\n').length;
    throw new CsvFileError(
      `the file is not ${encoding.toUpperCase()} text (line ${line} holds a byte that is not): save it from the spreadsheet as "CSV UTF-8" and import that file`,
    );
  }
}

/** UTF-16 without a byte-order mark: ASCII text then has a zero in every other byte, and only there. */
function utf16WithoutMark(sample: Uint8Array): CsvEncoding | null {
  const pairs = Math.floor(sample.length / 2);
  if (pairs < 2) return null;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (sample[i] === 0) evenZeros++;
    if (sample[i + 1] === 0) oddZeros++;
  }
  // Mostly-ASCII text: nearly every high byte is zero and no low byte is.
  if (oddZeros >= pairs * 0.9 && evenZeros === 0) return 'utf-16le';
  if (evenZeros >= pairs * 0.9 && oddZeros === 0) return 'utf-16be';
  return null;
}

function binary(offset: number): never {
  throw new CsvFileError(`the file is not text (it holds a zero byte at byte ${offset + 1}): export the data as CSV and import that file`);
}

const delimiters: readonly CsvDelimiter[] = [',', ';', '\t'];
const delimiter_names: Record<CsvDelimiter, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/**
 * The delimiter of the header line: whichever of `,` `;` and tab it holds most often outside
 * quotes (a comma when it holds none: one column). Spreadsheets set to a European locale save
 * CSV with `;`, Excel's "Unicode Text" with tabs.
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = new Map<string, number>(delimiters.map((d) => [d, 0]));
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  return delimiters.reduce((best, d) => (counts.get(d)! > counts.get(best)! ? d : best), ',');
}

/**
 * Rows of a CSV file, from its bytes (or text already decoded). Blank lines and rows with no
 * value are skipped; quoted fields, extra columns and short rows are fine. Excel's `sep=;` first
 * line, where present, names the delimiter.
 * Throws CsvFileError, before anything is written, when the file is empty, binary or in another
 * encoding, lacks a `required` column (naming what is missing and the columns it has), has no
 * row, has more than `csv_rows_max` rows, or has a quote that never closes (naming the line).
 */
export function readCsv(input: Uint8Array | string, options: { required?: readonly CsvColumn[] } = {}): CsvFile {
  const { text, encoding } = typeof input === 'string' ? { text: input.replace(/^\uFEFF/, ''), encoding: 'utf-8' as const } : decodeCsv(input);
  if (text.trim() === '') throw new CsvFileError(empty_file);
  const firstLine = /^[^\r\n]*/.exec(text)![0];
  const hint = /^sep=([,;\t])\s*$/i.exec(firstLine)?.[1] as CsvDelimiter | undefined;
  const delimiter = hint ?? detectDelimiter(firstLine);
  let columns: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      from_line: hint ? 2 : 1,
      columns: (header: string[]) => {
        columns = header.map((h) => h.trim());
        return columns.map(headerKey);
      },
      skip_empty_lines: true,
      // Spreadsheets save an emptied row as a line of bare delimiters.
      skip_records_with_empty_values: true,
      relax_column_count: true,
      // Consoles export names such as Dwayne "The Rock" Johnson without quoting the field.
      relax_quotes: true,
      trim: true,
      info: true,
    });
  } catch (error) {
    // A broken quote swallows the rows after it, so no row can be trusted: refuse the file,
    // before anything is written, and say where to look.
    throw new CsvFileError(`the CSV file cannot be read: ${(error as Error).message}; check the quoting up to that line and import the file again (nothing was imported)`);
  }
  const missing = missingColumns(columns, options.required ?? []);
  if (missing.length > 0) {
    const wanted = missing.map((c) => (c.names.length > 1 ? `${c.label} (or ${c.names.slice(1).join(', ')})` : c.label)).join('; ');
    throw new CsvFileError(
      `the file has no ${wanted} column${missing.length > 1 ? 's' : ''}; its ${delimiter_names[delimiter]}-separated header has ${columns.length === 1 ? 'the one column' : `${columns.length} columns`} ${columns.map((c) => `"${c}"`).join(', ')}: export the file with that column and import it again (nothing was imported)`,
    );
  }
  if (records.length === 0) throw new CsvFileError('the file has a header line but no rows: there is nothing to import');
  if (records.length > csv_rows_max) throw new CsvFileError(`the file has ${records.length} rows; split it into files of at most ${csv_rows_max}`);
  return { encoding, delimiter, columns, rows: records.map(({ record, info }) => ({ line: info.lines, values: record })) };
}

function missingColumns(columns: readonly string[], required: readonly CsvColumn[]): CsvColumn[] {
  const present = new Set(columns.map(headerKey));
  return required.filter((c) => !c.names.some((name) => present.has(headerKey(name))));
}

/** The value of the first of several possible column names that the row has and fills. */
export function column(row: CsvRow, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = row.values[headerKey(name)];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}
