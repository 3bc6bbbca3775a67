-- Who spent it (issue 17): a team log holds many people's kernels on many machines, so
-- every operation records the user and host it ran for. Both come from the writing
-- session (MIRA_USER / JUPYTERHUB_USER / the login name; MIRA_HOST / the host name).
-- Calls are grouped through their operation: a call's spend belongs to whoever ran it.

ALTER TABLE sessions ADD COLUMN user_name VARCHAR;
ALTER TABLE operations ADD COLUMN user_name VARCHAR;
ALTER TABLE operations ADD COLUMN host VARCHAR;

CREATE OR REPLACE MACRO mira_costs_by_user(since := NULL) AS TABLE
SELECT coalesce(o.user_name, '(unknown)') AS user_name,
       count(*) AS calls,
       count(DISTINCT c.operation_id) AS operations,
       coalesce(sum(c.input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(c.cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(c.output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(c.reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(c.cached_input_tokens)::DOUBLE / nullif(sum(c.input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(c.cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(c.cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(c.cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN count(*) > 0 AND count(*) FILTER (WHERE coalesce(c.priced, true)) = 0 THEN NULL
            ELSE coalesce(sum(c.cost_total_usd), 0) END AS cost_usd,
       CASE WHEN count(c.cost_upper_usd) > 0
            THEN sum(coalesce(c.cost_upper_usd, c.cost_total_usd)) END AS cost_upper_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls
FROM llm_calls c
LEFT JOIN operations o ON o.id = c.operation_id
WHERE since IS NULL OR c.started_at >= since
GROUP BY ALL
ORDER BY cost_usd DESC, user_name;

CREATE OR REPLACE MACRO mira_costs_by_host(since := NULL) AS TABLE
SELECT coalesce(o.host, '(unknown)') AS host,
       count(*) AS calls,
       count(DISTINCT c.operation_id) AS operations,
       coalesce(sum(c.input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(c.cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(c.output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(c.reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(c.cached_input_tokens)::DOUBLE / nullif(sum(c.input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(c.cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(c.cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(c.cost_output_usd), 0) AS cost_output_usd,
       CASE WHEN count(*) > 0 AND count(*) FILTER (WHERE coalesce(c.priced, true)) = 0 THEN NULL
            ELSE coalesce(sum(c.cost_total_usd), 0) END AS cost_usd,
       CASE WHEN count(c.cost_upper_usd) > 0
            THEN sum(coalesce(c.cost_upper_usd, c.cost_total_usd)) END AS cost_upper_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls
FROM llm_calls c
LEFT JOIN operations o ON o.id = c.operation_id
WHERE since IS NULL OR c.started_at >= since
GROUP BY ALL
ORDER BY cost_usd DESC, host;

-- The team budget (Mira.team_budget_usd): every kernel under it reserves a call's worst case
-- here before sending it and settles it to what the call cost, so kernels on other machines
-- see each other's calls in flight. A reservation is taken in a transaction that first bumps
-- the single team_budget_lock row: concurrent reservations conflict there (DuckLake) or
-- queue for the file lock (DuckDB), so two kernels never both take the last dollar.
CREATE TABLE team_reservations (
    id           VARCHAR NOT NULL,
    session_id   VARCHAR,
    user_name    VARCHAR,
    host         VARCHAR,
    amount       DECIMAL(18, 9) NOT NULL,
    charged      DECIMAL(18, 9),
    call_id      VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    settled_at   TIMESTAMPTZ
);

CREATE TABLE team_budget_lock (
    version  BIGINT NOT NULL
);
INSERT INTO team_budget_lock VALUES (0);
