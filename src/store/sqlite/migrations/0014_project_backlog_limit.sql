-- A project's own backlog limit (`backlogLimit`, set by the admin over the API): pending
-- deliveries past which its new events get 429 HERALD_ERR_BACKLOG_FULL. NULL: the installation's
-- HERALD_PROJECT_BACKLOG_LIMIT; 0: no limit for this project. Read with the project row the event
-- routes read anyway; not indexed. A nullable column without a default is added instantly, and
-- existing projects keep the installation's limit (no backfill).
ALTER TABLE projects ADD COLUMN backlog_limit INTEGER;
