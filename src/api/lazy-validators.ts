/**
 * Fastify's validators for request schemas, each compiled by Ajv when its route is first asked to
 * validate rather than when the app starts. Compiling every route's schemas (and creating Ajv, and
 * loading it) was ~0.3 s of CPU in each `herald serve` start, most of it for routes that process
 * never serves. Same compiler, same options, same shared schemas: only the moment differs, and
 * with it the first request of each route, which takes the few milliseconds its schemas take. A
 * schema Ajv refuses fails its route's first request (a 500, in the tests that call the route)
 * instead of the start.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type BuildValidator = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;
interface RouteSchema {
  schema: unknown;
  method: string;
  url: string;
  httpPart?: string;
}
type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type Compile = (route: RouteSchema) => Validate;
type Build = (externalSchemas: unknown, ajvOptions: unknown) => Compile;

// Fastify's own copy, found from where fastify is: the compiler it would have used itself.
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** Fastify's default buildValidator (@fastify/ajv-compiler's), loaded and called at first use. */
export function lazyValidators(): BuildValidator {
  let defaultBuild: Build | null = null;
  const build: Build = (externalSchemas, ajvOptions) => {
    let compile: Compile | null = null;
    return (route) => {
      if (route.httpPart === 'headers') refuseCapitalHeaders(route);
      let compiled: Validate | null = null;
      const validate: Validate = (data) => {
        if (compiled === null) {
          defaultBuild ??= (fastifyRequire('@fastify/ajv-compiler') as () => Build)();
          compile ??= defaultBuild(externalSchemas, ajvOptions);
          compiled = compile(route);
        }
        const result = compiled(data);
        // Fastify reads a failure's reasons from the function it called.
        validate.errors = compiled.errors;
        return result;
      };
      return validate;
    };
  };
  // Fastify's type describes Ajv's compiled functions; it calls them as plain functions.
  return build as unknown as BuildValidator;
}

/**
 * Fastify lowercases the header names of a headers schema for its own compiler, as requests' are,
 * but leaves them as written for a compiler given to it (this one): one with a capital letter would
 * never match. Herald writes them lowercase; another stops the start, naming it.
 */
function refuseCapitalHeaders({ schema, method, url }: RouteSchema): void {
  const { properties = {}, required = [] } = schema as { properties?: object; required?: string[] };
  const capital = [...Object.keys(properties), ...required].find((name) => name !== name.toLowerCase());
  if (capital !== undefined) {
    throw new Error(`${method} ${url}: the headers schema names ${capital}; write header names in lowercase`);
  }
}
