// The peer's one user, from PEER_USERNAME and PEER_PASSWORD.
export type User = Express.User;

const { PEER_USERNAME, PEER_PASSWORD } = process.env;
const bench: User = { id: PEER_USERNAME ?? 'bench', name: 'Bench' };

export const findUser = (id: string): User | undefined => (id === bench.id ? bench : undefined);

export const checkPassword = (username: string, password: string): User | undefined =>
  username === PEER_USERNAME && password === PEER_PASSWORD ? bench : undefined;
