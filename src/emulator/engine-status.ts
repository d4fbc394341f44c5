/**
 * The engine's life, as real SGLang lives it: `loading`, `compiling` (DeepGEMM JIT) and `capturing` (CUDA graphs)
 * with the HTTP port still closed; `warming` (port open, its own warm-up `POST /generate` running, `/health` 503);
 * `serving`; `draining` after SIGTERM (new requests still served, `/health` 503); `crashing` (a scheduler failure:
 * nothing answers until the process kills itself); `stopping` (the in-process handle closed it); `dead`.
 */
export type EngineStatus =
  'loading' | 'compiling' | 'capturing' | 'warming' | 'serving' | 'draining' | 'crashing' | 'stopping' | 'dead';
