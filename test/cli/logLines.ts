import { crc32 } from 'node:zlib';

/** One line of a segment file as the file store writes it: the CRC-32 of the JSON, then the JSON. */
export const checksummed = (value: unknown): string => {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
};
