const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*):([^\s/@'"]+)@/gi;
export const REDACTED = '***';

/** `https://user:secret@host/x` → `https://user:***@host/x`, anywhere in a string. */
export function redactUrlSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
}

/**
 * A topology read back (secrets redacted) and sent again keeps the secret in force: a
 * `hooks_git_repo` that equals the one in force once redacted is replaced by it.
 */
export function keepRedactedSecrets(incoming: unknown, inForce: Record<string, unknown> | undefined): unknown {
  const infra = (incoming as { infrastructure?: Record<string, unknown> } | undefined)?.infrastructure;
  const current = (inForce?.infrastructure as Record<string, unknown> | undefined)?.hooks_git_repo;
  if (!infra || typeof infra.hooks_git_repo !== 'string' || typeof current !== 'string') return incoming;
  if (!infra.hooks_git_repo.includes(`:${REDACTED}@`) || redactUrlSecrets(current) !== infra.hooks_git_repo) return incoming;
  return { ...(incoming as object), infrastructure: { ...infra, hooks_git_repo: current } };
}
