import {
  buildFixtureTokenizer,
  byteLevelAlphabet,
  GLM_MARKUP_TOKENS,
  GLM_SPECIAL_TOKENS,
} from '../../src/hub/fixture-tokenizer';

// The real `tokenizers` library loads this file in tests-python/fixture_tokenizer; these are the structural rules
// its loader enforces, checked here too so a broken build fails in jest before the Python run.

interface BpeModel {
  type: string;
  vocab: Record<string, number>;
  merges: string[];
}

test('every added token carries the fields tokenizers requires; GLM control tokens are special, markup is not', () => {
  const { tokenizerJson, ids } = buildFixtureTokenizer();
  const added = tokenizerJson.added_tokens as Array<Record<string, unknown>>;
  expect(added).toHaveLength(GLM_SPECIAL_TOKENS.length + GLM_MARKUP_TOKENS.length);
  for (const token of added)
    expect(Object.keys(token).sort()).toEqual([
      'content',
      'id',
      'lstrip',
      'normalized',
      'rstrip',
      'single_word',
      'special',
    ]);
  expect(added.filter((t) => t.special).map((t) => t.content)).toEqual([...GLM_SPECIAL_TOKENS]);
  expect(new Set(Object.values(ids)).size).toBe(added.length);
});

test('byte-level BPE: all 256 bytes are tokens, every merge joins two vocabulary entries into a third', () => {
  const model = buildFixtureTokenizer().tokenizerJson.model as BpeModel;
  expect(model.type).toBe('BPE');
  const alphabet = byteLevelAlphabet();
  expect(new Set(alphabet).size).toBe(256);
  expect(alphabet[0x20]).toBe('Ġ');
  for (const char of alphabet) expect(model.vocab[char]).toBeDefined();
  expect(model.merges.length).toBeGreaterThan(50);
  for (const merge of model.merges) {
    const [left, right, ...rest] = merge.split(' ');
    expect(rest).toEqual([]);
    expect(model.vocab[left!]).toBeDefined();
    expect(model.vocab[right!]).toBeDefined();
    expect(model.vocab[left! + right!]).toBeDefined();
  }
  const ids = Object.values(model.vocab).sort((a, b) => a - b);
  expect(ids).toEqual(ids.map((_, i) => i));
});

test('the build is deterministic (the fixture commit must not change between runs)', () => {
  expect(JSON.stringify(buildFixtureTokenizer())).toBe(JSON.stringify(buildFixtureTokenizer()));
});
