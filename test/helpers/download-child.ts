// A downloader in its own process, so a test can SIGKILL it mid-download. Args: endpoint repo revision outDir.
import { downloadSnapshot } from '../../src/storage/snapshot-download';
import * as path from 'node:path';

const [endpoint, repo, revision, outDir] = process.argv.slice(2) as [string, string, string, string];
downloadSnapshot({
  connection: { endpoint },
  repo,
  revision,
  dirFor: (commit) => path.join(outDir, commit),
  concurrency: 2,
  onProgress: (progress) => console.log(`progress ${progress.bytesDone}`),
})
  .then((result) => console.log(`done ${result.bytesDownloaded}`))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
