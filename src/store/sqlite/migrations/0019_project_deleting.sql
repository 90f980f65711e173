-- A project whose delete has begun (DELETE /api/v1/projects/:project): set in the delete's first
-- write, with its keys and endpoints gone and its uid cleared (free for another project), the row
-- itself deleted in its last. Such a project is not found and not listed, and a delete cut short by
-- a stop (its history in between, in steps) is finished at the next start
-- (Store.finishProjectDeletes). Read with the project row; the look at start reads every project
-- row once (not indexed). Existing projects are not being deleted.
ALTER TABLE projects ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;
