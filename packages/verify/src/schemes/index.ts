import type { SignatureScheme } from '../types.ts';
import { githubScheme } from './github.ts';
import { hmacSha1UrlScheme } from './hmac-sha1-url.ts';
import { hmacSha256Scheme } from './hmac-sha256.ts';
import { noneScheme } from './none.ts';
import type { Scheme } from './scheme.ts';
import { sha256BodyScheme } from './sha256-body.ts';
import { standardScheme } from './standard.ts';
import { stripeScheme } from './stripe.ts';

/** Every scheme by name. */
export const SCHEMES: Readonly<Record<SignatureScheme, Scheme>> = {
  standard: standardScheme,
  'hmac-sha256': hmacSha256Scheme,
  stripe: stripeScheme,
  github: githubScheme,
  'sha256-body': sha256BodyScheme,
  'hmac-sha1-url': hmacSha1UrlScheme,
  none: noneScheme,
};

/** The scheme called `name`, or undefined for an unknown name. */
export function schemeByName(name: string): Scheme | undefined {
  return Object.hasOwn(SCHEMES, name) ? SCHEMES[name as SignatureScheme] : undefined;
}
