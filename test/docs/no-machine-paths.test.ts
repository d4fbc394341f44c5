import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/repo-files';

/** Paths of one development machine or session: they mean nothing to a reader of the repository. */
const MACHINE_PATH = /(^|[\s"'(`=])(\/work\/|\/tmp\/coord|\/home\/[a-z]|\/Users\/[A-Za-z]|\/root\/|\.\.\/shared\/)/m;

function filesUnder(relative: string, extensions: RegExp): string[] {
  const root = path.join(REPO_ROOT, relative);
  if (!fs.existsSync(root)) return [];
  if (fs.statSync(root).isFile()) return [relative];
  return fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => extensions.test(name))
    .map((name) => path.join(relative, name));
}

describe('examples and docs cite the guide by its title, never by a file path of a machine', () => {
  const files = [...filesUnder('examples', /\.ya?ml$/), ...filesUnder('docs', /\.md$/), 'README.md', 'CONTRIBUTING.md'];

  it('finds the files it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['examples/glm-5.1-b200.yaml', 'README.md']));
  });

  it.each(files)('%s', (file) => {
    const lines = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n');
    const offending = lines.map((line, index) => `${index + 1}: ${line}`).filter((line) => MACHINE_PATH.test(line));
    expect(offending).toEqual([]);
  });

  it('the production example names the guide by the title line of the guide', () => {
    const example = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'glm-5.1-b200.yaml'), 'utf8');
    expect(example).toContain('"GLM-5.1 FP8 - Tune & Operate"');
  });
});
