import { argon2id, hash } from 'argon2';
import { hash as bcryptHash } from 'bcrypt';
import {
  decoyHashLike,
  hashCost,
  hashKind,
  slowestDecoyHash,
  verifyPassword,
} from './password-hash';

describe('password hashes', () => {
  let argon: string;
  let bcrypt: string;
  beforeAll(async () => {
    argon = await hash('s3cret', { type: argon2id, memoryCost: 8192, timeCost: 2, parallelism: 1 });
    bcrypt = await bcryptHash('s3cret', 4);
  });

  it('recognises argon2id and bcrypt by their prefix, and nothing else', async () => {
    expect(hashKind(argon)).toBe('argon2id');
    expect(hashKind(bcrypt)).toBe('bcrypt');
    expect(hashKind(bcrypt.replace('$2b$', '$2y$'))).toBe('bcrypt');
    // Costs the library cannot honour: below 4 it hashes at another cost, above 31 never returns.
    expect(hashKind(bcrypt.replace('$04$', '$03$'))).toBeUndefined();
    expect(hashKind(bcrypt.replace('$04$', '$31$'))).toBe('bcrypt');
    expect(hashKind(bcrypt.replace('$04$', '$32$'))).toBeUndefined();
    expect(hashKind(await hash('s3cret', { type: 1 }))).toBeUndefined(); // argon2i
    expect(hashKind('s3cret')).toBeUndefined();
    expect(hashKind(`${argon}\n`)).toBeUndefined();
  });

  it.each([
    ['argon2id', () => argon],
    ['bcrypt', () => bcrypt],
  ])('verifies a %s hash', async (_kind, stored) => {
    await expect(verifyPassword(stored(), 's3cret')).resolves.toBe(true);
    await expect(verifyPassword(stored(), 's3cret ')).resolves.toBe(false);
  });

  it.each(['$2a$', '$2y$'])('verifies a bcrypt hash written as %s', async (prefix) => {
    const other = bcrypt.replace('$2b$', prefix);
    await expect(verifyPassword(other, 's3cret')).resolves.toBe(true);
    await expect(verifyPassword(other, 's3cret ')).resolves.toBe(false);
  });

  it('treats an unreadable hash as a mismatch', async () => {
    await expect(verifyPassword('$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA', 'x')).resolves.toBe(false);
  });

  it('makes decoys with the same algorithm and cost, matching no guessable password', async () => {
    const argonDecoy = await decoyHashLike(argon);
    expect(argonDecoy.split('$').slice(0, 4)).toEqual(['', 'argon2id', 'v=19', 'm=8192,p=1,t=2']);
    expect(argonDecoy).not.toBe(argon);
    await expect(verifyPassword(argonDecoy, 's3cret')).resolves.toBe(false);
    await expect(verifyPassword(argonDecoy, '')).resolves.toBe(false);
    // Another writer's parameter order.
    const [salt, digest] = argon.split('$').slice(4);
    const reordered = await decoyHashLike(`$argon2id$v=19$t=4,m=4096,p=2$${salt}$${digest}`);
    expect(reordered.split('$')[3]).toBe('m=4096,p=2,t=4');
    const bcryptDecoy = await decoyHashLike(bcrypt);
    expect(bcryptDecoy).toMatch(/^\$2[ab]\$04\$/);
    await expect(verifyPassword(bcryptDecoy, 's3cret')).resolves.toBe(false);
  });

  it('names a cost by algorithm and parameters, in one order whatever the writer’s', () => {
    expect(hashCost(argon)).toBe('argon2id m=8192,p=1,t=2');
    const [salt, digest] = argon.split('$').slice(4);
    expect(hashCost(`$argon2id$v=19$t=2,p=1,m=8192$${salt}$${digest}`)).toBe(hashCost(argon));
    expect(hashCost(bcrypt)).toBe('bcrypt 04');
    expect(hashCost(bcrypt.replace('$2b$', '$2y$'))).toBe('bcrypt 04');
  });

  describe('the decoy of the slowest cost', () => {
    // Each slowest cost takes ten times or more what the others take.
    let bcrypt11: string;
    let argonOwasp: string;
    beforeAll(async () => {
      bcrypt11 = await bcryptHash('s3cret', 11);
      argonOwasp = await hash('s3cret', {
        type: argon2id,
        memoryCost: 19456,
        timeCost: 2,
        parallelism: 1,
      });
    });

    it.each([
      ['bcrypt 11', () => [argon, bcrypt, bcrypt11], /^\$2b\$11\$/],
      ['bcrypt 11', () => [bcrypt11, bcrypt, argon], /^\$2b\$11\$/],
      ['argon2id', () => [bcrypt, argonOwasp], /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/],
      ['argon2id', () => [argonOwasp, bcrypt], /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/],
    ])('is of %s, whichever comes first', async (_slowest, hashes, decoy) => {
      const made = await slowestDecoyHash(hashes());
      expect(made).toMatch(decoy);
      expect(hashes()).not.toContain(made);
    });

    it('is never of a cost the library refuses', async () => {
      const refused = '$argon2id$v=19$m=1,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA';
      await expect(slowestDecoyHash([refused, bcrypt])).resolves.toMatch(/^\$2b\$04\$/);
    });
  });
});
