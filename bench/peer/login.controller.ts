// POST /login {username, password}: passport's req.login puts the user in the session, whose
// cookie (connect.sid) the bench then sends with every call.
import { Body, Controller, HttpCode, Post, Req, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { checkPassword } from './users';

@Controller()
export class LoginController {
  @Post('login')
  @HttpCode(200)
  async login(
    @Req() req: Request,
    @Body() body: { username: string; password: string },
  ): Promise<{ name: string }> {
    const user = checkPassword(body.username, body.password);
    if (!user) throw new UnauthorizedException();
    await new Promise<void>((resolve, reject) =>
      req.login(user, (err) => (err ? reject(err as Error) : resolve())),
    );
    return { name: user.name };
  }
}
