import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '../errors.js';

/**
 * Text as the memory files and checkpoint documents keep it: as it is when it
 * is short, gzip-compressed and base64-encoded when it is long (the product
 * document: "store compressed context", but a short text stays readable).
 */
export type PackedText = string | CompressedText;

/** Text compressed with gzip, base64-encoded, with its length before compression. */
export interface CompressedText {
  encoding: 'gzip+base64';
  /** How many characters the text has once uncompressed. */
  chars: number;
  data: string;
}

/** Texts longer than this many characters are compressed. */
export const COMPRESS_ABOVE_CHARS = 8192;

/** The most characters {@link unpackText} gives back: 16 Mi (a packed text is read from files). */
export const MAX_UNPACKED_CHARS = 16 * 1024 * 1024;

/**
 * `text` as it is when it has at most {@link COMPRESS_ABOVE_CHARS} characters,
 * compressed otherwise. Deterministic on one zlib (level 9, no file name or time).
 *
 * @example
 * packText('Tests use pytest'); // 'Tests use pytest'
 * packText(longText);           // { encoding: 'gzip+base64', chars: 40213, data: 'H4sIAAAA...' }
 */
export function packText(text: string, above = COMPRESS_ABOVE_CHARS): PackedText {
  if (text.length <= above) return text;
  return { encoding: 'gzip+base64', chars: text.length, data: gzipSync(Buffer.from(text, 'utf8'), { level: 9 }).toString('base64') };
}

/** True when `value` is a {@link CompressedText}. */
export function isCompressedText(value: unknown): value is CompressedText {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as CompressedText).encoding === 'gzip+base64' &&
    typeof (value as CompressedText).data === 'string' &&
    Number.isSafeInteger((value as CompressedText).chars)
  );
}

/**
 * The text of a packed text (its `where` names it in an error).
 *
 * @throws InvalidArgumentError when it is neither a string nor a compressed
 *   text, when the data cannot be uncompressed, or when it is longer than
 *   {@link MAX_UNPACKED_CHARS}.
 */
export function unpackText(packed: unknown, where: string): string {
  if (typeof packed === 'string') return packed;
  if (!isCompressedText(packed)) {
    throw new InvalidArgumentError(`${where} is neither text nor { encoding: "gzip+base64", chars, data }.`);
  }
  let text: string;
  try {
    text = gunzipSync(Buffer.from(packed.data, 'base64'), { maxOutputLength: MAX_UNPACKED_CHARS * 4 }).toString('utf8');
  } catch (error) {
    throw new InvalidArgumentError(`${where} cannot be uncompressed: ${(error as Error).message}.`);
  }
  if (text.length > MAX_UNPACKED_CHARS) throw new InvalidArgumentError(`${where} is longer than ${MAX_UNPACKED_CHARS} characters.`);
  return text;
}
