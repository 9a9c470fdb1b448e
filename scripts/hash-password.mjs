// `npm run hash-password`: prints an argon2id hash for a passwordHash of AUTH_LOCAL_USERS_FILE.
// The password comes from stdin: piped (`printf %s "$PW" | npm run -s hash-password`) or typed
// at a prompt that does not echo it. Nothing but the hash is written to stdout.
import { argon2id, hash } from 'argon2';

/** Everything piped in, less the one line break that `echo` and here-strings add. */
async function readPiped() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** One line typed at the terminal without echo; Ctrl-C or Ctrl-D on an empty line cancels. */
function readHidden(prompt) {
  const { stdin, stderr } = process;
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let chars = [];
  return new Promise((resolve, reject) => {
    const finish = (settle) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      settle();
    };
    const onData = (chunk) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(chars.join('')));
        if (ch === '\u0003' || (ch === '\u0004' && chars.length === 0)) {
          return finish(() => reject(new Error('cancelled')));
        }
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
        else chars.push(ch);
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readPassword() {
  if (!process.stdin.isTTY) return readPiped();
  const password = await readHidden('Password: ');
  if ((await readHidden('Again: ')) !== password) throw new Error('the passwords differ');
  return password;
}

try {
  const password = await readPassword();
  if (password === '') throw new Error('the password is empty');
  process.stdout.write(`${await hash(password, { type: argon2id })}\n`);
} catch (err) {
  process.stderr.write(`hash-password: ${err.message}\n`);
  process.exitCode = 1;
}
