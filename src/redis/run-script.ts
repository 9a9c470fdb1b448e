import { createHash } from 'node:crypto';
import { withDeadline } from '../http/deadline';
import { REDIS_COMMAND_TIMEOUT_MS, redisTimedOut, type RedisClient } from './redis-client';

/** A Lua script and its SHA-1, so calls send the hash, not the text. */
export interface RedisScript {
  readonly text: string;
  readonly sha: string;
}

export function redisScript(text: string): RedisScript {
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

/**
 * Runs `script` on `keys` (one hash slot) as one EVALSHA under the store deadline; a server that
 * has forgotten the script (restarted, flushed) gets it again with EVAL.
 */
export async function runScript(
  client: RedisClient,
  script: RedisScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const options = { keys, arguments: args };
  try {
    return await withDeadline(
      client.evalSha(script.sha, options),
      REDIS_COMMAND_TIMEOUT_MS,
      redisTimedOut,
    );
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return withDeadline(client.eval(script.text, options), REDIS_COMMAND_TIMEOUT_MS, redisTimedOut);
  }
}
