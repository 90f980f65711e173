/**
 * The largest HERALD_MAX_BODY_BYTES (load-config.ts), and so the largest request body any Herald
 * takes: the CLI reads no more of stdin (src/cli/read-text-file.ts). What Herald makes of a body
 * can be ~5.9 times its size (the payload re-serialised, `1e20` as 21 digits, then base64 for `sha256-body`: docs/signatures.md),
 * and each of those texts is one JavaScript string, which V8 caps at 2^29 - 24 characters
 * (`buffer.constants.MAX_STRING_LENGTH`, ~512 MiB): past ~87 MiB an event could be accepted and
 * never sent, or answered 500. 256 MiB was allowed before: a 128 MiB array of `1e20` was a 500
 * after 30 s, and 200 MiB of U+FFFD failed every `hmac-sha1-url` attempt ("Invalid string length").
 */
export const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024;
