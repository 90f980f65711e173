-- Revoking a project's portal links (DELETE /api/v1/projects/:project/portal-links) increments this;
-- a link carries the value it was made in (`gen`) and the API refuses it once it is lower, so a
-- revocation needs no agreement between the clocks of the processes sharing the database
-- (portal_links_not_before stays, for links made before links carried `gen`). 0: never revoked.
-- Read with the project row that portal-link auth reads anyway; not indexed. Adding a column with a
-- constant default is instant.
ALTER TABLE projects ADD COLUMN portal_links_generation INTEGER NOT NULL DEFAULT 0;
