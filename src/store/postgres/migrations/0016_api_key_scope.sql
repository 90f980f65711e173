-- What a project API key may do (`scope`, chosen when the key is made and never changed): `full`
-- (everything in its project, as every key could before), `send` (send events), `read` (read the
-- project, not its secrets). Existing keys keep what they could do: `full`. No CHECK: a value this
-- version does not know (a later version's scope, after a downgrade) is refused everywhere by the
-- API (src/api/key-scope.ts), which fails closed. Read with the key row that authentication reads
-- anyway; not indexed. A column with a constant default does not rewrite the table.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
