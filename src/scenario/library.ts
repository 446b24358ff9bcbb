/**
 * The shipped scenario library (scenarios/*.yaml) and how a command-line argument
 * becomes a scenario file: a path if it looks like one or exists, else a library name.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { CompiledConfig } from './compiled.js';
import type { FileAllowance, TraceSet } from './files.js';
import { parseScenarioText, readScenarioText } from './load.js';
import { prepareScenario } from './prepare.js';
import {
  countProvenance,
  provenanceOf,
  type NumberMark,
  type ProvenanceCounts,
} from './provenance.js';
import { parse as parseYaml } from 'yaml';
import type { Scenario } from './schema.js';
import { didYouMean } from './suggest.js';

/** The scenario `qoslab run` runs without an argument. */
export const DEFAULT_SCENARIO = 'messengers';

/** scenarios/ at the package root; the same relative path from src/ and dist/. */
export const LIBRARY_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export interface ResolvedScenario {
  /** Absolute path of the file. */
  path: string;
  /** The library name, or the file name without extension for other files. */
  name: string;
  fromLibrary: boolean;
}

export async function libraryNames(dir = LIBRARY_DIR): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** A path (anything with a slash or a scenario extension, or an existing file) or a library name. */
export async function resolveScenario(
  nameOrPath: string,
  dir = LIBRARY_DIR,
): Promise<ResolvedScenario> {
  const looksLikePath = /[/\\]/.test(nameOrPath) || /\.(ya?ml|json)$/i.test(nameOrPath);
  if (looksLikePath || existsSync(nameOrPath)) {
    const path = resolve(nameOrPath);
    if (!existsSync(path)) throw new UsageError(`no scenario file ${nameOrPath}`);
    return { path, name: basename(path, extname(path)), fromLibrary: false };
  }
  const path = resolve(dir, `${nameOrPath}.yaml`);
  if (existsSync(path)) return { path, name: nameOrPath, fromLibrary: true };
  const names = await libraryNames(dir);
  throw new UsageError(
    `no scenario file or library scenario named '${nameOrPath}'${didYouMean(nameOrPath, names)}`,
    ['`qoslab scenarios` lists the library'],
  );
}

export interface LoadedScenario {
  resolved: ResolvedScenario;
  scenario: Scenario;
  compiled: CompiledConfig;
  /** The file's text, kept so a run can record the scenario exactly as given. */
  text: string;
  /** The traces it names, read and parsed: the core gets these, never a path to open. */
  traces: TraceSet;
  /** What the command line allowed it (files outside its folder, commands). */
  allow?: FileAllowance;
}

export interface LoadOptions {
  /** --allow-path folders and --allow-commands; default: neither. */
  allow?: FileAllowance;
  /** The library folder (tests). */
  dir?: string;
}

/** Resolve, parse, check (files it names and its budget too) and compile: what `run`, `shell` and `simulate` start from. */
export async function loadScenario(
  nameOrPath: string = DEFAULT_SCENARIO,
  o: LoadOptions = {},
): Promise<LoadedScenario> {
  const resolved = await resolveScenario(nameOrPath, o.dir);
  const display = resolved.fromLibrary ? `scenarios/${basename(resolved.path)}` : nameOrPath;
  const text = await readScenarioText(resolved.path, display);
  const p = prepareScenario(text, display, {
    path: resolved.path,
    name: resolved.name,
    allow: o.allow,
  });
  return { resolved, ...p, text, allow: o.allow };
}

export interface LibraryEntry {
  name: string;
  description: string;
  sources: string[];
  /** How many of its numbers are cited, assumed or unmarked, and each of them. */
  numbers: ProvenanceCounts;
  provenance: NumberMark[];
  /** Set when a shipped file does not validate (a bug, but `scenarios` still lists the rest). */
  error?: string;
}

export async function listLibrary(dir = LIBRARY_DIR): Promise<LibraryEntry[]> {
  const entries: LibraryEntry[] = [];
  for (const name of await libraryNames(dir)) {
    const file = resolve(dir, `${name}.yaml`);
    try {
      const text = await readFile(file, 'utf8');
      const s = parseScenarioText(text, `scenarios/${name}.yaml`);
      const provenance = provenanceOf(parseYaml(text));
      entries.push({
        name,
        description: (s.description ?? '').split('\n')[0]!.trim(),
        sources: (s.sources ?? []).map((src) => (typeof src === 'string' ? src : src.cite)),
        numbers: countProvenance(provenance),
        provenance,
      });
    } catch (error) {
      entries.push({
        name,
        description: '',
        sources: [],
        numbers: { cited: 0, assumed: 0, unmarked: 0 },
        provenance: [],
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return entries;
}
