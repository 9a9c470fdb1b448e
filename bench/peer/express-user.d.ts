// What passport keeps in the peer's session and puts on req.user.
declare namespace Express {
  interface User {
    id: string;
    name: string;
  }
}
