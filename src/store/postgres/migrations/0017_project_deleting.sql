-- A project whose delete has begun (DELETE /api/v1/projects/:project): set in the delete's first
-- transaction, with its keys and endpoints gone and its uid cleared (free for another project), the
-- row itself deleted in its last. Such a project is not found and not listed, and a delete cut
-- short by a stop (its history in between, in steps) is finished at the next start
-- (Store.finishProjectDeletes). Read with the project row; the look at start reads every project
-- row once (not indexed). Existing projects are not being deleted. A column with a constant
-- default does not rewrite the table.
ALTER TABLE projects ADD COLUMN deleting BOOLEAN NOT NULL DEFAULT false;
