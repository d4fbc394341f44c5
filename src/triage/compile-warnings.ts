import { notFromSglang, type LinePattern } from './triage-rule';

/** One row of the guide's §12 table of compilation and runtime warnings. */
export interface CompileWarning {
  /** The row number in §12. */
  row: number;
  id: string;
  /** The guide's severity column. */
  severity: 'Informational' | 'Monitor';
  /** The warning as the guide describes it. */
  message: string;
  /** The guide's action column. */
  action: string;
  /**
   * Known noise that needs no action now. All ten rows are: even the two "Monitor" rows describe expected
   * output on Blackwell, so a clean start-up log (which prints row 7 every time) stays free of findings.
   */
  isBenign: boolean;
  pattern: LinePattern;
}

/** Guide §12: the warnings `compile_deepgemm` and a normal start-up print, and what to do about each. */
export const COMPILE_WARNINGS: readonly CompileWarning[] = [
  {
    row: 1,
    id: 'orjson-deprecation',
    severity: 'Informational',
    message: 'FastAPI ORJSONResponse deprecation (SGLang internal)',
    action: 'Ignore — upstream; no functional impact',
    isBenign: true,
    pattern: /ORJSONResponse\b.*deprecat/i,
  },
  {
    row: 2,
    id: 'generation-flags-invalid',
    severity: 'Informational',
    message: 'Generation flags like top_p reported invalid during compile warmup',
    action: 'Ignore — compile-mode artifact',
    isBenign: true,
    pattern: notFromSglang(
      /generation flags (are|were) not valid|\b(top_p|top_k)\b.*\b(invalid|not valid)\b/i,
      'guide',
      "seen by the guide in compile_deep_gemm's warm-up; not in the recorded server runs",
    ),
  },
  {
    row: 3,
    id: 'cutlass-package-walk',
    severity: 'Informational',
    message: 'Unexpected error during package walk: cutlass.cute.experimental',
    action: 'Ignore — FlashInfer autotuner noise; autotuning still completes',
    isBenign: true,
    pattern: notFromSglang(
      /Unexpected error during package walk/i,
      'guide',
      'FlashInfer autotuner output on Blackwell; not in the recorded server runs',
    ),
  },
  {
    row: 4,
    id: 'flashinfer-tensor-return-deprecated',
    severity: 'Informational',
    message: 'torch.Tensor return type deprecated (flashinfer.jit)',
    action: 'Monitor — works today; upgrade when SGLang bumps FlashInfer',
    isBenign: true,
    pattern: notFromSglang(
      /torch\.Tensor return type is deprecated|flashinfer\.jit\b.*deprecat/i,
      'guide',
      'FlashInfer JIT output; not in the recorded server runs',
    ),
  },
  {
    row: 5,
    id: 'leaked-semaphore',
    severity: 'Informational',
    message: 'Leaked semaphore / shared_memory on multi-process shutdown',
    action: 'Ignore — normal Python cleanup noise after TP workers exit',
    isBenign: true,
    pattern: /leaked (semaphore|shared_memory)/i,
  },
  {
    row: 6,
    id: 'gloo-zero-peers',
    severity: 'Informational',
    message: 'Gloo Rank 0 connected to 0 peer ranks',
    action: 'Ignore — NCCL used for GPU comm; Gloo for local control groups',
    isBenign: true,
    pattern: notFromSglang(
      /Gloo\]? Rank \d+ is connected to 0 peer ranks/i,
      'guide',
      'printed with several TP ranks; the recorded single-GPU runs print none',
    ),
  },
  {
    row: 7,
    id: 'deepgemm-scale-fmt',
    severity: 'Monitor',
    message: 'DeepGEMM enabled but scale_fmt of checkpoint is not ue8m0',
    action: 'Watch output quality; typical for E4M3 FP8 on Blackwell',
    isBenign: true,
    pattern: notFromSglang(
      /DeepGEMM enabled but (the )?scale_fmt of (the )?checkpoint is not ue8m0/i,
      'guide',
      'printed by DeepGEMM on Blackwell; the recorded install had no deep_gemm',
    ),
  },
  {
    row: 8,
    id: 'compile-kv-fp8',
    severity: 'Informational',
    message: 'KV cache dtype set to fp8_e4m3 during compile_deep_gemm on SM10',
    action: 'OK for compile step — serving uses BF16 KV per deploy config',
    isBenign: true,
    pattern: notFromSglang(
      /KV cache dtype (is )?set to fp8_e4m3 during compile_deep_gemm/i,
      'guide',
      'compile_deep_gemm on SM10; not recorded',
    ),
  },
  {
    row: 9,
    id: 'fp8-kv-no-scales',
    severity: 'Informational',
    message: 'FP8 KV cache with no scaling factors — defaulting to 1.0',
    action: 'OK during compile; serving avoids FP8 KV',
    isBenign: true,
    pattern: /FP8 KV cache (with|but) no scaling factors/i,
  },
  {
    row: 10,
    id: 'nsa-sparse-mla-prefill',
    severity: 'Informational',
    message: 'Force NSA prefill to sparse MLA (MHA_ONE_SHOT disabled) on Blackwell',
    action: 'Expected — TRT-LLM sparse MLA path for GLM-5.1 on B200',
    isBenign: true,
    pattern: notFromSglang(
      /Force NSA prefill to (use )?sparse MLA/i,
      'guide',
      'printed on Blackwell with NSA attention; the recording used one H200',
    ),
  },
];
