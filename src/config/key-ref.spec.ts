import { parseKeyRef } from './key-ref';

describe('parseKeyRef', () => {
  it.each([
    ['aws-sm:gather/prod', { kind: 'aws-sm', secretId: 'gather/prod', field: undefined }],
    ['aws-sm:gather/prod#api_key', { kind: 'aws-sm', secretId: 'gather/prod', field: 'api_key' }],
    [
      'aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:gather-AbCdEf',
      {
        kind: 'aws-sm',
        secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gather-AbCdEf',
        field: undefined,
      },
    ],
    ['vault:secret/gather', { kind: 'vault', mount: 'secret', path: 'gather', field: 'api_key' }],
    ['vault:secret/gather#key', { kind: 'vault', mount: 'secret', path: 'gather', field: 'key' }],
    [
      'vault:kv/teams/team-a#api_key',
      { kind: 'vault', mount: 'kv', path: 'teams/team-a', field: 'api_key' },
    ],
  ])('reads %s', (ref, expected) => {
    expect(parseKeyRef(ref)).toEqual(expected);
  });

  it.each([
    ['aws-sm:', 'needs a secret name'],
    ['aws-sm:a b', 'needs a secret name'],
    ['aws-sm:gather#', 'malformed #field'],
    ['aws-sm:gather#a#b', 'malformed #field'],
    ['vault:secret', 'needs <mount>/<path>'],
    ['vault:secret/', 'needs <mount>/<path>'],
    ['vault:/gather', 'needs <mount>/<path>'],
    ['vault:secret/../sys/policy', 'needs <mount>/<path>'],
    ['vault:secret/a//b', 'needs <mount>/<path>'],
    ['vault:secret/a?x=1', 'needs <mount>/<path>'],
    ['gcp-sm:projects/x', 'is not a secret-manager reference'],
    ['/run/secrets/gather', 'is not a secret-manager reference'],
  ])('refuses %s', (ref, problem) => {
    const parsed = parseKeyRef(ref);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.problem).toContain(problem);
  });
});
