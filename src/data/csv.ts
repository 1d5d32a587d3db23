/**
 * A labelled dataset from a CSV file (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180):
 *
 *   sepal_len,sepal_wid,"petal, length",label      a header row naming the columns (line 1)
 *   5.1,3.5,1.4,0                                    one row a sample: numeric features and an integer label
 *
 * Fields are separated by commas; a field in double quotes may hold commas, line breaks and "" for a quote.
 * Records end in CRLF or LF; a UTF-8 byte order mark, a trailing newline and blank trailing lines are accepted.
 * The label column is the one named by `label` (default "label"), anywhere in the row; every other column is a
 * feature, in column order (with `labelRequired: false`, a file without that column is all features). Numbers
 * are decimal (`-1.5`, `.5`, `2e-3`); NaN and infinities are refused, since one would poison every weight it
 * touches. Labels are class indices: integers >= 0 (`3` or `3.0`).
 *
 * Everything is checked while reading; a bad cell is a DataFileError naming the file, the line (1-based, the
 * header is line 1) and the column, e.g. `iris.csv: line 7, column "sepal_len": "abc" is not a number`.
 */
import { checkPath, type PathLike } from '../util/path.js';
import { DataFileError, featureProblem, labelProblem, readDataFile } from './data-file-error.js';
import { show } from '../util/show.js';

export interface CsvOptions {
  /** The name of the label column; default "label". */
  label?: string;
  /**
   * Default true. false accepts a file without the label column (inputs to predict on): every column is then a
   * feature and `labels` is empty. A file that has the column still has it read and checked as labels.
   */
  labelRequired?: boolean;
}

export interface CsvDataset {
  /** (N, D) features, row-major. */
  x: Float32Array;
  /** (N) class indices; empty (length 0) for a file without a label column, read with labelRequired false. */
  labels: Int32Array;
  /** [N, D]. */
  shape: [number, number];
  /** The D feature columns' names, in the order of x's columns. */
  featureNames: string[];
  /** (N) the line each row starts on, so a caller's later check of a row can name it like the reader does. */
  lines: Int32Array;
}

/** Reads a CSV file of numeric feature columns and one label column (or none, with labelRequired false). */
export function readCsvDataset(file: PathLike, options: CsvOptions = {}): CsvDataset {
  const path = checkPath(file, 'readCsvDataset: path');
  if (typeof options !== 'object' || options === null) throw new TypeError(`readCsvDataset: options must be an object, got ${show(options)}`);
  const labelName = options.label ?? 'label';
  if (typeof labelName !== 'string' || labelName === '') throw new TypeError(`readCsvDataset: label must be a column name, got ${show(labelName)}`);
  // trimEnd drops the trailing newline and blank trailing lines; a blank line between rows stays a (ragged) row.
  const text = readDataFile(path).toString('utf8').replace(/^\uFEFF/, '').trimEnd();
  function fail(where: string, what: string): never {
    throw new DataFileError(`${path}: ${where}: ${what}`);
  }

  const records = csvRecords(text, fail);
  const header = records.next();
  if (header.done) fail('line 1', 'empty file: expected a header row naming the columns, then one row a sample');
  const names = header.value.fields.map((name) => name.trim());
  const labelColumn = names.indexOf(labelName);
  if (labelColumn < 0 && options.labelRequired !== false) {
    fail('line 1', `no label column "${labelName}"; the columns are ${names.map((n) => `"${n}"`).join(', ')} (name the label column with the label option)`);
  }
  if (labelColumn >= 0 && names.indexOf(labelName, labelColumn + 1) >= 0) fail('line 1', `two columns are named "${labelName}"; which one is the label is ambiguous`);
  const featureNames = names.filter((_, column) => column !== labelColumn);
  const D = featureNames.length;
  if (D === 0) fail('line 1', `no feature columns: the only column is the label "${labelName}"`);

  // Rows are not counted up front, so the arrays grow by doubling and are cut to size at the end.
  let x = new Float32Array(D * 1024);
  let labels = new Int32Array(1024);
  let lines = new Int32Array(1024);
  let N = 0;
  for (const { fields, line } of records) {
    if (fields.length !== names.length) {
      const missing = fields.length < names.length ? `: no value for column "${names[fields.length]}"` : '';
      fail(`line ${line}`, `expected ${names.length} fields as in the header, got ${fields.length}${missing}`);
    }
    if (N === labels.length) {
      x = grow(x, 2 * x.length);
      labels = grow(labels, 2 * labels.length);
      lines = grow(lines, 2 * lines.length);
    }
    let d = 0;
    fields.forEach((cell, column) => {
      const value = parseNumber(cell);
      const problem = value === null ? 'is not a number' : column === labelColumn ? labelProblem(value) : featureProblem(value);
      if (value === null || problem !== null) fail(`line ${line}, column "${names[column]}"`, `"${cell}" ${problem}`);
      if (column === labelColumn) labels[N] = value;
      else x[N * D + d++] = value;
    });
    lines[N++] = line;
  }
  if (N === 0) fail('line 2', 'no data rows after the header');
  return { x: x.slice(0, N * D), labels: labels.slice(0, labelColumn >= 0 ? N : 0), shape: [N, D], featureNames, lines: lines.slice(0, N) };
}

/** The value of a decimal number cell (surrounding spaces allowed), NaN for a NaN or infinity, null for anything else. */
function parseNumber(cell: string): number | null {
  const text = cell.trim();
  // Number() alone would also take '' (as 0), hex and binary literals, and "Infinity".
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  // Numbers, but not finite ones: NaN makes the value checks say so rather than "not a number".
  return /^[+-]?(nan|inf|infinity)$/i.test(text) ? NaN : null;
}

function grow<T extends Float32Array | Int32Array>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(length);
  grown.set(array);
  return grown;
}

/**
 * The records of RFC 4180 text, each with the 1-based line it starts on (a quoted field may span lines).
 * `text` must not end in a line break: every record, the last included, is then ended by a break or the end.
 */
function* csvRecords(text: string, fail: (where: string, what: string) => never): Generator<{ fields: string[]; line: number }> {
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let end: number; // the index after the field
      if (text[i] === '"') {
        let value = '';
        let from = i + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote < 0) fail(`line ${start}`, `a quoted field in column ${fields.length + 1} is not closed before the end of the file`);
          value += text.slice(from, quote);
          if (text[quote + 1] !== '"') {
            end = quote + 1;
            break;
          }
          value += '"'; // "" inside quotes is one quote
          from = quote + 2;
        }
        for (let k = i; k < end; k++) if (text[k] === '\n') line++;
        if (text[end] === '\r' && text[end + 1] === '\n') end++;
        if (end < text.length && text[end] !== ',' && text[end] !== '\n') {
          fail(`line ${line}`, `unexpected ${JSON.stringify(text[end])} after the closing quote of column ${fields.length + 1}: a field in quotes must end at its quote`);
        }
        fields.push(value);
      } else {
        end = i;
        while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
        // The CR of a CRLF ending stays with the last field; drop it.
        fields.push(text.slice(i, text[end - 1] === '\r' && end > i ? end - 1 : end));
      }
      i = end + 1;
      if (text[end] !== ',') break;
    }
    if (text[i - 1] === '\n') line++;
    yield { fields, line: start };
  }
}
