export { stackCheck } from './stack-check';
export { rollout } from './rollout';
export { rollbackApp } from './rollback-app';
