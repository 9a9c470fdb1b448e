import type { SessionUser } from '../session/session-user';

/** The user as the browser sees it (docs/contract.md, "Routes": /auth/me): always the four fields, `team` null if none. */
export interface PublicUser {
  id: string;
  name: string;
  email: string;
  team: string | null;
}

export function publicUser({ id, name, email, team }: SessionUser): PublicUser {
  return { id, name, email, team: team ?? null };
}
