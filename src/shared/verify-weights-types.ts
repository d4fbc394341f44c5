// The verifyWeights workflow's contract: the verify schedule, the CLI and the workflow import it from here.
import type { Spec } from '../spec/schema';

/** Input of one scheduled full re-hash: the spec whose weights volume is checked (names only, no secret). */
export interface VerifyWeightsInput {
  spec: Spec;
}

/** What a verify run found when every file still matched its sentinel (a mismatch fails the run instead). */
export interface VerifyWeightsResult {
  app: string;
  repo: string;
  commit?: string;
  state: 'valid';
  /** Files hashed: every file the sentinel lists. */
  filesRehashed: number;
  bytes: number;
  checkedAt: string;
}

/** The memo a verify run leaves on its execution (shown in the Temporal UI), under {@link VERIFY_MEMO_KEY}. */
export interface VerifyWeightsMemo {
  state: 'valid' | 'missing' | 'partial' | 'corrupt';
  checkedAt: string;
  /** Files whose bytes no longer hash to the sentinel's sha256. */
  badFiles: string[];
  /** The first problems the check found, one line each. */
  problems: string[];
}

/** Memo key of {@link VerifyWeightsMemo}. */
export const VERIFY_MEMO_KEY = 'weightsVerify';

/** Values the verify run gives the phase search attribute (`GlmOpsPhase`), so a list filter finds the alerts. */
export const VERIFY_PHASE = { running: 'verify', valid: 'weights-verified', failed: 'weights-corrupt' } as const;
