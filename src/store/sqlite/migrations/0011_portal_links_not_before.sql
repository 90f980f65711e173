-- Revoking a project's portal links (DELETE /api/v1/projects/:project/portal-links) sets this to the
-- time of the revocation (epoch ms); the API refuses a link of the project issued before it. NULL:
-- never revoked. Read with the project row that portal-link auth reads anyway; not indexed. Adding a
-- nullable column is instant.
ALTER TABLE projects ADD COLUMN portal_links_not_before INTEGER;
