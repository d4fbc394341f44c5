import * as z from 'zod';
import type { LogLine } from '../platform';
import { ModalOutputError } from './modal-platform-errors';

/** One row of `modal app history --json` (keys from the client's column names; `tag` only when any deploy used one). */
export const HistoryRow = z.object({
  version: z.string().regex(/^v\d+$/),
  time_deployed: z.string().nullable().optional(),
  client: z.string().nullable().optional(),
  deployed_by: z.string().nullable().optional(),
  commit: z.string().nullable().optional(),
  tag: z.string().nullable().optional(),
});

/** A deployed version as the adapter uses it. */
export interface HistoryEntry {
  version: number;
  deployedAt: string;
  tag?: string;
}

/** One row of `modal app list --json`. */
export const AppListRow = z.object({
  app_id: z.string(),
  description: z.string(),
  state: z.string(),
  tasks: z.union([z.string(), z.number()]).optional(),
  created_at: z.string().nullable().optional(),
  stopped_at: z.string().nullable().optional(),
});
export type AppListRow = z.infer<typeof AppListRow>;

/** One row of `modal volume ls --json`. */
export const VolumeEntry = z.object({
  filename: z.string(),
  type: z.string(),
  created_modified: z.string().nullable().optional(),
  size: z.union([z.number(), z.string()]),
});
export type VolumeEntry = z.infer<typeof VolumeEntry>;

function parseJsonArray<T>(stdout: string, schema: z.ZodType<T>, what: string): T[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new ModalOutputError(`${what}: the modal client printed no JSON (first bytes: ${stdout.slice(0, 80)})`);
  }
  const parsed = z.array(schema).safeParse(json);
  if (!parsed.success) throw new ModalOutputError(`${what}: unexpected JSON shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Parses `modal app history APP --json` into entries, newest version first. */
export function parseAppHistory(stdout: string): HistoryEntry[] {
  return parseJsonArray(stdout, HistoryRow, 'modal app history')
    .map((row) => ({
      version: Number(row.version.slice(1)),
      deployedAt: normaliseTime(row.time_deployed ?? ''),
      ...(row.tag ? { tag: row.tag } : {}),
    }))
    .sort((a, b) => b.version - a.version);
}

/** Parses `modal app list --json`. */
export function parseAppList(stdout: string): AppListRow[] {
  return parseJsonArray(stdout, AppListRow, 'modal app list');
}

/** Parses `modal volume ls VOL PATH --json`. */
export function parseVolumeListing(stdout: string): VolumeEntry[] {
  return parseJsonArray(stdout, VolumeEntry, 'modal volume ls');
}

const TIMESTAMPED_LINE = /^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) (.*)$/;
/** Lines deploy.py's Server prints itself (monitor, health, warmup, server), as opposed to SGLang's own output. */
const PLATFORM_LINE = /^\[(monitor|health|warmup|server|download|compile|commit)\]/;

/** Parses `modal app logs APP --timestamps` output (`2026-03-01 05:00:00+00:00 text` per line). */
export function parseAppLogs(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    if (raw.trim() === '') continue;
    const match = TIMESTAMPED_LINE.exec(raw);
    const text = match?.[2] ?? raw;
    const time = match?.[1] ? normaliseTime(match[1]) : (lines.at(-1)?.time ?? '');
    lines.push({ time, stream: PLATFORM_LINE.test(text) ? 'system' : 'stdout', text });
  }
  return lines;
}

/** The client prints `2026-03-01 05:00:00+00:00` (ISO with a space); callers get ISO 8601 UTC. */
export function normaliseTime(value: string): string {
  if (!value) return '';
  const parsed = new Date(value.replace(' ', 'T'));
  return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString();
}
