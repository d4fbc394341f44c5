export {
  probeHealth,
  pollHealth,
  HEALTH_OUTCOMES,
  type HealthOutcome,
  type HealthProbeResult,
  type PollHealthOptions,
  type PollHealthResult,
} from './health-probe';
export {
  createChatCompletion,
  streamChatCompletion,
  type ChatCompletionBody,
  type ChatMessage,
  type ChatReply,
  type ChatTool,
  type ChatToolCall,
  type StreamedChatReply,
} from './chat-client';
export { runWarmup, type WarmupResult, type RunWarmupOptions } from './warmup-requests';
export { runSmokeTests, SMOKE_TEST_NAMES, type SmokeTestName, type RunSmokeTestsOptions } from './smoke-tests';
export {
  readMetrics,
  parseMetricsText,
  readGauge,
  readTotal,
  missingMetrics,
  SGLANG_CORE_METRICS,
  type MetricFamilies,
  type MetricFamily,
} from './metrics-reader';
export { ProbeHttpError, ProbeTransportError, ProbeProtocolError } from './probe-errors';
export { readEngineInfo, type EngineInfo } from './engine-info';
export { measureStreamingChat, type StreamTimingResult } from './stream-timing';
export type { ProbeTarget } from './probe-target';
