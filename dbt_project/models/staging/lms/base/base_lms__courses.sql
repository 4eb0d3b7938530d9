-- The latest landed version of each LMS course (deletions kept: the staging
-- models drop them), read once for the two staging models that parse it.
{{ latest_versions(source('lms', 'courses')) }}
