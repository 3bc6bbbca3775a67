-- Core log tables. Column names follow the OpenTelemetry GenAI attributes where one exists
-- (input_tokens includes cached_input_tokens; output_tokens includes reasoning_tokens).
-- No foreign keys: the recorder writes events as they arrive, possibly out of order across
-- batches and replays, so every table is written with order-independent upserts instead.

CREATE TABLE sessions (
    id            VARCHAR PRIMARY KEY,
    pid           INTEGER,
    hostname      VARCHAR,
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    project_root  VARCHAR,
    mira_version  VARCHAR,
    -- the session's journal file; while its owner lives it holds an exclusive lock on it
    journal_path  VARCHAR
);

CREATE TABLE operations (
    id                         VARCHAR PRIMARY KEY,
    session_id                 VARCHAR,
    request                    VARCHAR,
    mode                       VARCHAR,
    requested_mode             VARCHAR,
    skill                      VARCHAR,
    status                     VARCHAR NOT NULL DEFAULT 'running',
    reasoning                  VARCHAR,
    complexity_score           DOUBLE,
    complexity_reasons         JSON,
    orchestrator_model         VARCHAR,
    executor_model             VARCHAR,
    plan_text                  VARCHAR,
    plan_source                VARCHAR,
    plan_started_at            TIMESTAMPTZ,
    plan_generated_at          TIMESTAMPTZ,
    planning_input_tokens      BIGINT,
    planning_output_tokens     BIGINT,
    planning_reasoning_tokens  BIGINT,
    plan_estimated_cost_usd    DECIMAL(18, 9),
    result_text                VARCHAR,
    error                      VARCHAR,
    project_root               VARCHAR,
    budget_usd                 DECIMAL(18, 9),
    plan_only                  BOOLEAN NOT NULL DEFAULT false,
    started_at                 TIMESTAMPTZ,
    finished_at                TIMESTAMPTZ,
    input_tokens               BIGINT,
    cached_input_tokens        BIGINT,
    output_tokens              BIGINT,
    reasoning_tokens           BIGINT,
    usage_source               VARCHAR,
    cost_usd                   DECIMAL(18, 9),
    routing_savings_usd        DECIMAL(18, 9),
    priced                     BOOLEAN
);

CREATE TABLE operation_tasks (
    id             VARCHAR PRIMARY KEY,
    operation_id   VARCHAR NOT NULL,
    sequence       INTEGER,
    description    VARCHAR,
    active_form    VARCHAR,
    status         VARCHAR NOT NULL DEFAULT 'pending',
    created_at     TIMESTAMPTZ,
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    note           VARCHAR,
    error_message  VARCHAR
);

CREATE TABLE llm_calls (
    id                           VARCHAR PRIMARY KEY,
    operation_id                 VARCHAR NOT NULL,
    task_id                      VARCHAR,
    role                         VARCHAR,
    provider                     VARCHAR,
    model                        VARCHAR,
    purpose                      VARCHAR,
    reasoning_effort             VARCHAR,
    stream                       BOOLEAN,
    started_at                   TIMESTAMPTZ,
    finished_at                  TIMESTAMPTZ,
    latency_ms                   DOUBLE,
    ttft_ms                      DOUBLE,
    input_tokens                 BIGINT,
    cached_input_tokens          BIGINT,
    output_tokens                BIGINT,
    reasoning_tokens             BIGINT,
    usage_source                 VARCHAR,
    cost_input_usd               DECIMAL(18, 9),
    cost_cached_input_usd        DECIMAL(18, 9),
    cost_output_usd              DECIMAL(18, 9),
    cost_total_usd               DECIMAL(18, 9),
    orchestrator_equivalent_usd  DECIMAL(18, 9),
    price_version                VARCHAR,
    priced                       BOOLEAN,
    finish_reason                VARCHAR,
    status                       VARCHAR NOT NULL DEFAULT 'running',
    error                        VARCHAR
);

CREATE TABLE tool_calls (
    id             VARCHAR PRIMARY KEY,
    llm_call_id    VARCHAR,
    operation_id   VARCHAR NOT NULL,
    task_id        VARCHAR,
    role           VARCHAR,
    tool           VARCHAR,
    arguments      JSON,
    status         VARCHAR NOT NULL DEFAULT 'running',
    denial_reason  VARCHAR,
    error          VARCHAR,
    summary        VARCHAR,
    duration_ms    DOUBLE,
    result_bytes   BIGINT,
    truncated      BOOLEAN,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ
);

-- Every event, in order. Consecutive text deltas are stored as one row covering
-- seq..seq_end, so "is event N recorded?" is a range test (this makes journal replay
-- idempotent).
CREATE TABLE operation_events (
    operation_id  VARCHAR NOT NULL,
    seq           INTEGER NOT NULL,
    seq_end       INTEGER NOT NULL,
    type          VARCHAR NOT NULL,
    payload       JSON NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (operation_id, seq)
);

CREATE TABLE file_changes (
    operation_id      VARCHAR NOT NULL,
    seq               INTEGER NOT NULL,
    path              VARCHAR NOT NULL,
    existed_before    BOOLEAN NOT NULL,
    previous_content  BLOB,
    previous_sha256   VARCHAR,
    new_sha256        VARCHAR,
    tool_call_id      VARCHAR,
    ts                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (operation_id, seq)
);
