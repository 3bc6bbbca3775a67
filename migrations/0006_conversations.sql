-- Conversation across cells: each operation names its conversation and the operation it
-- follows, and how much of the conversation it carried (turns kept, turns dropped, tokens).
ALTER TABLE operations ADD COLUMN conversation_id VARCHAR;
ALTER TABLE operations ADD COLUMN parent_operation_id VARCHAR;
ALTER TABLE operations ADD COLUMN history_turns INTEGER;
ALTER TABLE operations ADD COLUMN history_dropped INTEGER;
ALTER TABLE operations ADD COLUMN history_tokens INTEGER;
