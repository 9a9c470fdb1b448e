import { needsUserInfo, sessionUserFromClaims } from './oidc-user';

describe('sessionUserFromClaims', () => {
  it('maps sub, name, email and a string team claim from the ID token', () => {
    const claims = { sub: 'u1', name: 'Ada', email: 'ada@example.test', team: 'team-b' };
    expect(sessionUserFromClaims(claims, undefined, 'team')).toEqual({
      id: 'u1',
      name: 'Ada',
      email: 'ada@example.test',
      team: 'team-b',
    });
  });

  it('takes the first entry of a list claim as the team', () => {
    const claims = { sub: 'u1', name: 'Ada', email: 'a@x.test', groups: ['team-a', 'team-z'] };
    expect(sessionUserFromClaims(claims, undefined, 'groups').team).toBe('team-a');
  });

  it('fills what the ID token lacks from userinfo, the ID token winning where both have it', () => {
    const user = sessionUserFromClaims(
      { sub: 'u1', name: 'From ID token' },
      { sub: 'u1', name: 'From userinfo', email: 'ui@x.test', groups: ['team-ui'] },
      'groups',
    );
    expect(user).toEqual({ id: 'u1', name: 'From ID token', email: 'ui@x.test', team: 'team-ui' });
  });

  it('falls back to preferred_username, then sub, for the name', () => {
    expect(
      sessionUserFromClaims({ sub: 'u1' }, { preferred_username: 'ada' }, undefined).name,
    ).toBe('ada');
    expect(sessionUserFromClaims({ sub: 'u1', name: '' }, undefined, undefined).name).toBe('u1');
  });

  it('has no team without OIDC_TEAM_CLAIM, or when the claim is missing, empty or not text', () => {
    const claims = { sub: 'u1', name: 'Ada', email: 'a@x.test', groups: ['team-a'] };
    expect(sessionUserFromClaims(claims, undefined, undefined)).not.toHaveProperty('team');
    for (const groups of [undefined, [], [''], '', [42], 42, { a: 1 }]) {
      expect(sessionUserFromClaims({ ...claims, groups }, undefined, 'groups')).not.toHaveProperty(
        'team',
      );
    }
  });

  it('answers an empty email when the provider has none, and ignores non-text claims', () => {
    expect(sessionUserFromClaims({ sub: 'u1', email: 7, name: ['x'] }, {}, undefined)).toEqual({
      id: 'u1',
      name: 'u1',
      email: '',
    });
  });
});

describe('needsUserInfo', () => {
  const full = { sub: 'u1', name: 'Ada', email: 'a@x.test', groups: ['g'] };
  it('is false when the ID token has name, email and (if configured) the team claim', () => {
    expect(needsUserInfo(full, 'groups')).toBe(false);
    expect(needsUserInfo({ ...full, groups: undefined }, undefined)).toBe(false);
  });

  it('is true when any of them is missing', () => {
    expect(needsUserInfo({ ...full, name: undefined }, 'groups')).toBe(true);
    expect(needsUserInfo({ ...full, email: undefined }, undefined)).toBe(true);
    expect(needsUserInfo({ ...full, groups: [] }, 'groups')).toBe(true);
  });
});
