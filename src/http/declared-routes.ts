import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

type Handler = (...args: never[]) => unknown;

/** One route of a registered controller, as the router serves it. */
export interface DeclaredRoute {
  readonly method: RequestMethod;
  /** `/auth/sessions/:id`: the controller's path, then the handler's. */
  readonly path: string;
  readonly controller: Type;
  /** The method that serves it: where its decorators' metadata lives. */
  readonly handler: Handler;
}

/**
 * Every route of every registered controller, read from the decorators' metadata once the
 * application's modules are built. The paths join the controller's and the handler's, as the
 * router does here: this application sets no global prefix, versions or RouterModule paths
 * (test/e2e/route-inventory.e2e-spec.ts compares this list with Express's router).
 */
export function declaredRoutes(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
): DeclaredRoute[] {
  return discovery.getControllers().flatMap(({ metatype }) => {
    if (!metatype) return [];
    // A controller's metatype is its class.
    const controller = metatype as Type;
    const prototype = controller.prototype as Record<string, Handler>;
    const bases = pathsOf(reflector.get<string | string[]>(PATH_METADATA, controller));
    return scanner.getAllMethodNames(prototype).flatMap((name) => {
      const handler = prototype[name] as Handler;
      const paths = reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
      if (paths === undefined) return [];
      const method = reflector.get<RequestMethod>(METHOD_METADATA, handler);
      return bases.flatMap((base) =>
        pathsOf(paths).map((path) => ({
          method,
          path: joinPaths(base, path),
          controller,
          handler,
        })),
      );
    });
  });
}

const pathsOf = (paths: string | string[]): string[] => (Array.isArray(paths) ? paths : [paths]);

/** `auth` + `sessions/:id` → `/auth/sessions/:id`; `/` + `healthz` → `/healthz`. */
const joinPaths = (...parts: string[]): string =>
  `/${parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '')
    .join('/')}`;
