/** Progress of a run on stderr: one line rewritten in place on a terminal, a plain line each tenth otherwise. */
export function benchProgress(
  stream: NodeJS.WriteStream,
  label: string,
): {
  update: (p: { completed: number; failed: number; total: number }) => void;
  done: () => void;
} {
  const started = Date.now();
  let lastTenth = -1;
  let isOpen = false;
  return {
    update({ completed, failed, total }) {
      const finished = completed + failed;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const text = `${label} ${finished}/${total} done${failed ? `, ${failed} failed` : ''}, ${seconds} s`;
      if (stream.isTTY) {
        const width = 24;
        const filled = Math.round((finished / total) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
        isOpen = true;
        return;
      }
      const tenth = Math.floor((finished / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (isOpen) stream.write('\n');
      isOpen = false;
    },
  };
}
