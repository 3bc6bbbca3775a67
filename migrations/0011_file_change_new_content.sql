-- The bytes each change wrote, so the cell and %mira diff show the change as a unified diff
-- long after the file moved on (NULL for a deletion, a command's change too large to keep,
-- and changes logged before this column).
ALTER TABLE file_changes ADD COLUMN new_content BLOB;
