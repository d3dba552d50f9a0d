/** Fixture access for the wire tests: the scapy-built frames and scapy's own dissection of them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIp } from '../../src/engine/addr.js';
import type { Ip6Words } from '../../src/wire/bytes.js';
import { parseMac } from '../../src/wire/bytes.js';
import { fixturesDir } from '../helpers/paths.js';

const dir = join(fixturesDir, 'packets');

export interface ScapyLayer {
  layer: string;
  offset: number;
  fields: Record<string, unknown>;
}

let meta: Record<string, { len: number; layers: ScapyLayer[] }> | undefined;

function allMeta() {
  meta ??= JSON.parse(readFileSync(join(dir, 'fields.json'), 'utf8')) as Record<
    string,
    { len: number; layers: ScapyLayer[] }
  >;
  return meta;
}

export function fixtureNames(): string[] {
  return Object.keys(allMeta()).sort();
}

/** The frame bytes of `<name>.hex` ('#' lines are comments). */
export function fixture(name: string): Uint8Array {
  const text = readFileSync(join(dir, `${name}.hex`), 'utf8');
  const hex = text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  assert.match(hex, /^([0-9a-f]{2})+$/, `${name}.hex is not hex`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  assert.equal(out.length, allMeta()[name]!.len, `${name}.hex length differs from fields.json`);
  return out;
}

/** scapy's dissection of fixture `name`: layer `layer` (the nth of that class). */
export function scapy(name: string, layer: string, nth = 0): ScapyLayer {
  const found = allMeta()[name]!.layers.filter((l) => l.layer === layer);
  assert.ok(found[nth], `${name} has no scapy layer ${layer}#${nth}`);
  return found[nth]!;
}

export function num(l: ScapyLayer, field: string): number {
  const v = l.fields[field];
  assert.equal(typeof v, 'number', `scapy field ${l.layer}.${field}`);
  return v as number;
}

export function ip4(s: unknown): number {
  const a = parseIp(String(s));
  assert.equal(a.family, 4);
  return a.words[0];
}

export function ip6(s: unknown): Ip6Words {
  const a = parseIp(String(s));
  assert.equal(a.family, 6);
  return a.words;
}

export function mac(s: unknown): number {
  const m = parseMac(String(s));
  assert.ok(m >= 0, `bad MAC ${String(s)}`);
  return m;
}

/** A copy of exactly `len` bytes from `off`: reads past the end give undefined, so they cannot pass silently. */
export function exact(buf: Uint8Array, off: number, len: number): Uint8Array {
  return buf.slice(off, off + len);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
}

export function ascii(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}
