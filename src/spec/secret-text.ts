/**
 * Spec errors quote what the user wrote (the value, the source line). A key pasted into the wrong field must not be
 * quoted back into a terminal, a CI log or a workflow failure, so values of secret-looking fields, and anything that
 * looks like a token, are masked first.
 */

/**
 * Field names that may hold a credential: `api-key`, `apiKey`, `hf_token`, `secret`, `password`, and a webhook's
 * `url` (a Slack incoming-webhook URL carries its token; `notify:` takes the secret's name, a pasted URL is masked).
 */
const SECRET_FIELD = /(^|[-_.])(api[-_]?key|apikey|token|secret|password|passwd|credentials?|url|webhook)$/i;

/**
 * Token shapes worth masking wherever they appear (OpenAI-style `sk-…`, Hugging Face `hf_…`, Modal `ak-`/`as-`, Slack
 * `xox…-` tokens and incoming-webhook URLs).
 */
const TOKEN_SHAPE =
  /\b(sk|ak|as)-[A-Za-z0-9_-]{8,}|\bhf_[A-Za-z0-9]{8,}|\bxox[a-z]-[A-Za-z0-9-]{8,}|https?:\/\/hooks\.slack\.com\/[^\s"'}\],]+/g;

export const MASK = '<not shown>';

/** Whether a field's value may be a secret and must not be echoed. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** `apiKey: value` / `"hf_token": 'value'` anywhere on a line, block or flow style: the value part is masked. */
const SECRET_PAIR =
  /((?:^|[\s{,])(?:-\s+)?["']?[\w.-]*?(?:api[-_]?key|apikey|token|secret|password|passwd|credentials?|url|webhook)["']?\s*:\s+)("[^"]*"?|'[^']*'?|[^\s,}\]#][^,}\]#]*)/gi;

/** A source line safe to print: the value of a secret-looking key and token-shaped text masked. */
export function maskSecretsInLine(line: string): string {
  return line.replace(SECRET_PAIR, `$1${MASK}`).replace(TOKEN_SHAPE, MASK);
}
