import * as z from 'zod';

const FileMatch = z.string().min(1).default('*').describe('a file path in the repo, or "*" for every file');
const Times = z.number().int().positive().default(1);

/** One injected fault of the local hub; `file` is a repo path or `*`, `times` how often it fires. */
export const HubFault = z.discriminatedUnion('kind', [
  /** Close the connection once the response reaches `atFraction` of the file's bytes. */
  z.strictObject({ kind: z.literal('drop'), file: FileMatch, atFraction: z.number().min(0).max(1), times: Times }),
  /** Serve the file with some bytes flipped (same length). */
  z.strictObject({ kind: z.literal('wrongBytes'), file: FileMatch, times: Times }),
  /** Answer `status` (429/503) with Retry-After; `api: true` targets the model-info API instead of files. */
  z.strictObject({
    kind: z.literal('status'),
    status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]),
    file: FileMatch,
    api: z.boolean().default(false),
    times: Times,
    retryAfterSeconds: z.number().min(0).max(3600).optional(),
  }),
  /** Limit the link to `bytesPerSec` per response (or for one file). */
  z.strictObject({ kind: z.literal('slow'), file: FileMatch, bytesPerSec: z.number().int().positive() }),
]);
export type HubFault = z.infer<typeof HubFault>;

/** The fault plan given at hub start (`--faults JSON`). */
export const HubFaultPlan = z.array(HubFault);
export type HubFaultPlan = z.infer<typeof HubFaultPlan>;

/** Parses `--faults` JSON (an array of faults or `{ "faults": [...] }`) into a plan, naming the bad field. */
export function parseFaultPlan(json: string): HubFaultPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(
      `--faults is not valid JSON (${(err as Error).message}): pass e.g. '[{"kind":"drop","atFraction":0.5}]'`,
    );
  }
  const list = Array.isArray(raw) ? raw : (raw as { faults?: unknown } | null)?.faults;
  const parsed = HubFaultPlan.safeParse(list);
  if (!parsed.success) throw new Error(`--faults is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Keeps how many times each fault may still fire, and picks the fault for a request. */
export class FaultBook {
  private readonly remaining: number[];

  constructor(private readonly plan: HubFaultPlan) {
    this.remaining = plan.map((fault) => ('times' in fault ? fault.times : Number.POSITIVE_INFINITY));
  }

  /** Consumes and returns the first matching fault of a kind, if any is left. */
  take<K extends HubFault['kind']>(kind: K, file: string | null): Extract<HubFault, { kind: K }> | undefined {
    for (let index = 0; index < this.plan.length; index++) {
      const fault = this.plan[index]!;
      if (fault.kind !== kind || this.remaining[index]! <= 0) continue;
      if (fault.kind === 'status' && fault.api !== (file === null)) continue;
      if (file !== null && fault.file !== '*' && fault.file !== file) continue;
      if (file === null && fault.kind !== 'status') continue;
      this.remaining[index]! -= 1;
      return fault as Extract<HubFault, { kind: K }>;
    }
    return undefined;
  }

  /** Like {@link take} but without consuming (for faults that last, like a slow link). */
  peek<K extends HubFault['kind']>(kind: K, file: string): Extract<HubFault, { kind: K }> | undefined {
    return this.plan.find((fault) => fault.kind === kind && (fault.file === '*' || fault.file === file)) as
      Extract<HubFault, { kind: K }> | undefined;
  }
}
