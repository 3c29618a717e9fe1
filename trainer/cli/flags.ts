// Caffe's command lines are gflags command lines: a flag is `-name` or `--name`, its value follows
// after `=` or as the next argument; a boolean is `-name`, `-name=true|false` or `-noname`. This is the
// one parser every `caffe` subcommand uses, so `caffe train -solver s.prototxt` works as Caffe documents.
// Mirrors ParseNewCommandLineFlags in gflags' src/gflags.cc: arguments that are not flags may come
// anywhere and are kept in order; `--` ends the flags; `-` alone is an argument.
import { UsageError } from '../contract/errors.js';
import type { DataShapeDefaults } from '../net/spec/index.js';
import { Phase } from '../proto/index.js';

export type FlagSpec = Record<
  string,
  { type: 'string' | 'boolean'; multiple?: boolean; default?: string | boolean }
>;

/** What a spec's flags parse to: a boolean, a string, or every value of a flag that may repeat. */
export type FlagValues<T extends FlagSpec> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K]['multiple'] extends true
      ? string[]
      : string;
};

export interface ParsedFlags<T extends FlagSpec> {
  values: FlagValues<T>;
  positionals: string[];
}

// The spellings gflags' ParseBoolFlag accepts, case-insensitively.
const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);

/** `--help` (or `-help`, `--helpshort`) on a command: its usage on stdout and exit 0, not an error. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly usage: string) {
    super(usage);
  }
}

/** Parses argv in gflags' forms against spec; a usage error (exit 64) names the offending flag. */
export function parseFlags<T extends FlagSpec>(argv: string[], spec: T, usage: string): ParsedFlags<T> {
  const values: Record<string, string | boolean | string[]> = {};
  for (const [name, option] of Object.entries(spec)) {
    if (option.default !== undefined) values[name] = option.default;
  }
  const seen = new Set<string>();
  const positionals: string[] = [];
  const fail = (message: string): never => {
    throw new UsageError(`${message}\nusage: ${usage}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.slice(arg.startsWith('--') ? 2 : 1);
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const negated = spec[key] === undefined && key.startsWith('no') && spec[key.slice(2)]?.type === 'boolean';
    const name = negated ? key.slice(2) : key;
    const option = spec[name];
    if (option === undefined && (key === 'help' || key === 'helpshort')) throw new HelpRequested(usage);
    if (option === undefined) fail(`unknown command line flag '${key}' (in '${arg}')`);
    if (option!.type === 'boolean') {
      if (negated) {
        if (inline !== undefined) fail(`${arg}: a negated boolean flag takes no value`);
        values[name] = false;
      } else {
        values[name] = inline === undefined ? true : boolValue(arg, inline, fail);
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`flag '${arg}' is missing its argument`);
      value = argv[++i]!;
    }
    if (option!.multiple) {
      // A repeated flag adds to its list; the first occurrence replaces the default.
      const list = seen.has(name) ? (values[name] as string[]) : [];
      values[name] = [...list, value];
    } else {
      values[name] = value;
    }
    seen.add(name);
  }
  return { values: values as FlagValues<T>, positionals };
}

function boolValue(arg: string, value: string, fail: (message: string) => never): boolean {
  const word = value.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return fail(`${arg}: expected a boolean (true, false, yes, no, 1, 0), received '${value}'`);
}

/** A flag's value as a number, or a usage error naming the flag. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, received '${value}'`);
  return n;
}

/** --phase=TRAIN|TEST (default TRAIN) as Caffe's Phase number. */
export function phaseFlag(value: string | undefined): number {
  if (value === undefined || value === 'TRAIN') return Phase.TRAIN;
  if (value === 'TEST') return Phase.TEST;
  throw new UsageError(`--phase: expected TRAIN or TEST, received '${value}'`);
}

/** --data-shape=C,H,W: the image size of every Data layer, instead of the one Caffe reads from the
 * database's first record; undefined when not given. */
export function dataShapeFlag(value: string | undefined): DataShapeDefaults | undefined {
  if (value === undefined) return undefined;
  const dims = value.split(',').map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new UsageError(`--data-shape: expected C,H,W as three positive integers, received '${value}'`);
  }
  const [channels, height, width] = dims as [number, number, number];
  return { channels, height, width };
}
