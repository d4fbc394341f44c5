// Download throughput from the local hub vs raw loopback (curl to /dev/null), re-run-with-sentinel time, hashing rate.
// Usage: npm run bench -- weights-download [sizeMB=300] [concurrency=8]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { writeFixtureCheckpoint } from '../src/hub/fixture-checkpoint';
import { evaluateWeightsDir } from '../src/storage/download-sentinel';
import { sha256File } from '../src/storage/file-digest';
import { downloadSnapshot } from '../src/storage/snapshot-download';

const REPO = 'zai-org/GLM-5.1-FP8';

async function main(): Promise<void> {
  const sizeMB = Number(process.argv[2] ?? 300);
  const concurrency = Number(process.argv[3] ?? 8);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-bench-weights-'));
  const fixtureDir = path.join(work, 'fixture');
  const manifest = await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB, repo: REPO });
  const totalBytes = manifest.files.reduce((sum, file) => sum + file.sizeBytes, 0);
  const hub = await startHubProcess(fixtureDir);
  try {
    const urls = manifest.files.map((file) => `${hub.url}/${REPO}/resolve/main/${file.path}`);
    await curlAll(urls, concurrency); // warm the page cache once
    const curlRuns = [
      await curlAll(urls, concurrency),
      await curlAll(urls, concurrency),
      await curlAll(urls, concurrency),
    ];
    const curlMs = Math.min(...curlRuns);

    const downloadRuns: number[] = [];
    let outDir = '';
    for (let run = 0; run < 3; run++) {
      outDir = path.join(work, `out-${run}`);
      const started = performance.now();
      await downloadSnapshot({
        connection: { endpoint: hub.url },
        repo: REPO,
        revision: 'main',
        dirFor: (c) => path.join(outDir, c),
        concurrency,
      });
      downloadRuns.push(performance.now() - started);
      if (run < 2) fs.rmSync(outDir, { recursive: true, force: true });
    }
    const downloadMs = Math.min(...downloadRuns);

    const rerunRuns: number[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      const result = await downloadSnapshot({
        connection: { endpoint: hub.url },
        repo: REPO,
        revision: 'main',
        dirFor: (c) => path.join(outDir, c),
      });
      if (!result.skipped) throw new Error('re-run did not skip');
      rerunRuns.push(performance.now() - started);
    }
    const rerunMs = median(rerunRuns);

    const weightsDir = path.join(outDir, manifest.commit);
    let started = performance.now();
    for (const file of manifest.files) await sha256File(path.join(weightsDir, file.path));
    const hashMs = performance.now() - started;
    started = performance.now();
    const full = await evaluateWeightsDir(weightsDir, { full: true });
    const fullVerifyMs = performance.now() - started;
    if (full.state !== 'valid') throw new Error(`full verify: ${full.state}`);

    const mbps = (ms: number): number => totalBytes / 1e6 / (ms / 1000);
    const rows = [
      [
        'raw loopback (curl → /dev/null, same files, same parallelism)',
        `${curlMs.toFixed(0)} ms`,
        `${mbps(curlMs).toFixed(0)} MB/s`,
      ],
      [
        'glm-ops download (resume-capable, sha256-verified, sentinel last)',
        `${downloadMs.toFixed(0)} ms`,
        `${mbps(downloadMs).toFixed(0)} MB/s (${((curlMs / downloadMs) * 100).toFixed(0)}% of raw)`,
      ],
      ['re-run with valid sentinel (model info + size checks)', `${rerunMs.toFixed(1)} ms`, '—'],
      ['sha256 of all files (single stream)', `${hashMs.toFixed(0)} ms`, `${mbps(hashMs).toFixed(0)} MB/s`],
      [
        'verify --full (re-hash against the sentinel)',
        `${fullVerifyMs.toFixed(0)} ms`,
        `${mbps(fullVerifyMs).toFixed(0)} MB/s`,
      ],
    ];
    console.log(
      `\nweights-download: ${manifest.files.length} files, ${(totalBytes / 1e6).toFixed(0)} MB, concurrency ${concurrency}, ${os.cpus().length} CPUs\n`,
    );
    console.log('| Measure | Time | Rate |');
    console.log('|---|---:|---:|');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    const results = {
      sizeMB,
      totalBytes,
      files: manifest.files.length,
      concurrency,
      curlMs,
      downloadMs,
      downloadRuns,
      curlRuns,
      rerunMs,
      hashMs,
      fullVerifyMs,
      ratio: curlMs / downloadMs,
    };
    fs.mkdirSync(path.join(__dirname, '..', '..', 'bench', 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(__dirname, '..', '..', 'bench', 'results', 'weights-download.json'),
      `${JSON.stringify(results, null, 2)}\n`,
    );
  } finally {
    hub.child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The hub in its own process, so the client and server do not share one event loop. */
async function startHubProcess(fixtureDir: string): Promise<{ url: string; child: ReturnType<typeof spawn> }> {
  const hubModule = path.join(__dirname, '..', 'src', 'hub', 'hub-server.js');
  const script = `require(${JSON.stringify(hubModule)}).startHub({ fixtureDir: ${JSON.stringify(fixtureDir)} }).then((h) => console.log('hub listening on ' + h.url));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^hub listening on (\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`hub exited ${code}`)));
  });
  return { url, child };
}

async function curlAll(urls: string[], concurrency: number): Promise<number> {
  const started = performance.now();
  const queue = [...urls];
  const worker = async (): Promise<void> => {
    for (let url = queue.shift(); url; url = queue.shift()) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('curl', ['-sS', '-o', '/dev/null', url], { stdio: 'ignore' });
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl ${url} exited ${code}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
