import { Module } from '@nestjs/common';
import { AdminPageRoutes } from './admin-page.routes';

/**
 * The operators' page on the metrics listener (docs/contract.md, "The operators' page"): static
 * files only. Its data comes from the admin routes the session and usage modules register.
 */
@Module({ providers: [AdminPageRoutes] })
export class AdminPageModule {}
