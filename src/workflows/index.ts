export { stackCheck } from './stack-check';
export { rollout } from './rollout';
export { rollbackApp } from './rollback-app';
export { keepWarm } from './keep-warm';
export { upgrade } from './upgrade';
export { verifyWeights } from './verify-weights';
export { notify } from './notify';
