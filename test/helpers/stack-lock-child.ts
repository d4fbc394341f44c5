// Holds the dev stack lock of a state folder in its own process until stdin closes, so a test can SIGKILL the holder.
// Args: stateDir.
import { withStackLock } from '../../src/devstack/stack-lock';

const [stateDir] = process.argv.slice(2) as [string];
void withStackLock(stateDir, async () => {
  console.log('locked');
  await new Promise<void>((resolve) => process.stdin.on('close', resolve).resume());
}).then(() => console.log('released'));
