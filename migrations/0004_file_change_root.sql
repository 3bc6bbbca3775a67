-- The sandbox root each change was made under, so %mira undo refuses to replay a change
-- under another root (after Mira.project_root changed, the same relative path is another file).
ALTER TABLE file_changes ADD COLUMN project_root VARCHAR;
