/**
 * Fastify's serializer compiler for response schemas (@fastify/fast-json-stringify-compiler),
 * loaded when a route with a response schema is set up rather than when the app is created. No
 * Herald route registers one (openapi/describe-responses.ts: fast-json-stringify would drop fields
 * and rewrite the numbers Herald keeps exactly), so a start no longer loads it, fast-json-stringify,
 * Ajv and ajv-formats for nothing: Fastify loaded them in `fastify()` itself, ~0.1 s of CPU of each
 * `herald serve` start. Same compiler, same options and shared schemas, compiled at the same moment
 * for a route that has one (a plugin's).
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type BuildSerializer = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']
>;
type Compile = (route: unknown) => unknown;
type Build = (externalSchemas: unknown, serializerOptions: unknown) => Compile;

// Fastify's own copy, found from where fastify is: the compiler it would have used itself.
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** Fastify's default buildSerializer, loaded and called when a route first needs a serializer. */
export function lazySerializers(): BuildSerializer {
  let defaultBuild: Build | null = null;
  const build: Build = (externalSchemas, serializerOptions) => {
    let compile: Compile | null = null;
    return (route) => {
      defaultBuild ??= (fastifyRequire('@fastify/fast-json-stringify-compiler') as () => Build)();
      compile ??= defaultBuild(externalSchemas, serializerOptions);
      return compile(route);
    };
  };
  return build as unknown as BuildSerializer;
}
