-- Analytics: one table macro per grouping, taking an optional lower time bound, and a
-- plain view over each macro for ad-hoc SQL. mira_jupyter.store.analytics calls the macros,
-- so the arithmetic lives in one place.
--
-- Shared column meanings:
--   cost_usd            sum of the calls' cost_total_usd (input + cached input + output)
--   routing_savings_usd sum over executor calls of (orchestrator_equivalent_usd - cost_total_usd):
--                       what sending that work to the orchestrator would have cost extra
--   cache_hit_ratio     cached_input_tokens / input_tokens (cached tokens are a subset of input)
--   Days are calendar days in the connection's TimeZone setting.

CREATE MACRO mira_costs_by_model(since := NULL) AS TABLE
SELECT provider, model,
       count(*) AS calls,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(cost_output_usd), 0) AS cost_output_usd,
       coalesce(sum(cost_total_usd), 0) AS cost_usd,
       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
FROM llm_calls
WHERE since IS NULL OR started_at >= since
GROUP BY provider, model
ORDER BY cost_usd DESC, provider, model;

CREATE MACRO mira_costs_by_role(since := NULL) AS TABLE
SELECT role,
       count(*) AS calls,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(cost_output_usd), 0) AS cost_output_usd,
       coalesce(sum(cost_total_usd), 0) AS cost_usd,
       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
FROM llm_calls
WHERE since IS NULL OR started_at >= since
GROUP BY role
ORDER BY cost_usd DESC, role;

CREATE MACRO mira_costs_by_day(since := NULL) AS TABLE
SELECT CAST(started_at AS DATE) AS day,
       count(*) AS calls,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(cost_output_usd), 0) AS cost_output_usd,
       coalesce(sum(cost_total_usd), 0) AS cost_usd,
       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(priced, true)) AS unpriced_calls
FROM llm_calls
WHERE since IS NULL OR started_at >= since
GROUP BY day
ORDER BY day;

-- A call's skill is the skill it ran (purpose 'skill:<name>', e.g. a delegated skill inside a
-- planned operation), else the skill of its operation; NULL means no skill was involved.
CREATE MACRO mira_costs_by_skill(since := NULL) AS TABLE
SELECT CASE WHEN c.purpose LIKE 'skill:%' THEN substr(c.purpose, 7) ELSE o.skill END AS skill,
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
       coalesce(sum(c.cost_total_usd), 0) AS cost_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls
FROM llm_calls c LEFT JOIN operations o ON o.id = c.operation_id
WHERE since IS NULL OR c.started_at >= since
GROUP BY 1
ORDER BY cost_usd DESC, skill NULLS LAST;

-- Operations are selected by their start time; an operation without calls still appears.
CREATE MACRO mira_costs_by_operation(since := NULL) AS TABLE
SELECT o.id AS operation_id, o.started_at, o.status, o.mode, o.skill, o.request,
       count(c.id) AS calls,
       coalesce(sum(c.input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(c.cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(c.output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(c.reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(c.cached_input_tokens)::DOUBLE / nullif(sum(c.input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(c.cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(c.cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(c.cost_output_usd), 0) AS cost_output_usd,
       coalesce(sum(c.cost_total_usd), 0) AS cost_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(c.id) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls,
       o.cost_usd AS reported_cost_usd,
       o.routing_savings_usd AS reported_routing_savings_usd
FROM operations o LEFT JOIN llm_calls c ON c.operation_id = o.id
WHERE since IS NULL OR o.started_at >= since
GROUP BY ALL
ORDER BY o.started_at DESC NULLS LAST, o.id;

-- Calls outside any task (planning, composing the answer) form a row with task_id NULL.
CREATE MACRO mira_costs_by_task(since := NULL) AS TABLE
SELECT c.operation_id, c.task_id, t.sequence, t.description, t.status,
       count(*) AS calls,
       coalesce(sum(c.input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(c.cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       coalesce(sum(c.output_tokens), 0)::BIGINT AS output_tokens,
       coalesce(sum(c.reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
       sum(c.cached_input_tokens)::DOUBLE / nullif(sum(c.input_tokens), 0) AS cache_hit_ratio,
       coalesce(sum(c.cost_input_usd), 0) AS cost_input_usd,
       coalesce(sum(c.cost_cached_input_usd), 0) AS cost_cached_input_usd,
       coalesce(sum(c.cost_output_usd), 0) AS cost_output_usd,
       coalesce(sum(c.cost_total_usd), 0) AS cost_usd,
       coalesce(sum(c.orchestrator_equivalent_usd - c.cost_total_usd), 0) AS routing_savings_usd,
       count(*) FILTER (WHERE NOT coalesce(c.priced, true)) AS unpriced_calls
FROM llm_calls c LEFT JOIN operation_tasks t ON t.id = c.task_id
WHERE since IS NULL OR c.started_at >= since
GROUP BY ALL
ORDER BY c.operation_id, t.sequence NULLS FIRST;

CREATE MACRO mira_tool_usage(since := NULL) AS TABLE
SELECT tool,
       count(*) AS calls,
       count(*) FILTER (WHERE status = 'ok') AS ok,
       count(*) FILTER (WHERE status = 'error') AS failures,
       count(*) FILTER (WHERE status = 'denied') AS denials,
       count(*) FILTER (WHERE truncated) AS truncated,
       coalesce(sum(duration_ms), 0) AS total_ms,
       avg(duration_ms) AS avg_ms,
       max(duration_ms) AS max_ms,
       coalesce(sum(result_bytes), 0)::BIGINT AS result_bytes
FROM tool_calls
WHERE since IS NULL OR started_at >= since
GROUP BY tool
ORDER BY calls DESC, tool;

CREATE VIEW v_cost_by_model AS FROM mira_costs_by_model();
CREATE VIEW v_cost_by_role AS FROM mira_costs_by_role();
CREATE VIEW v_cost_by_day AS FROM mira_costs_by_day();
CREATE VIEW v_cost_by_skill AS FROM mira_costs_by_skill();
CREATE VIEW v_cost_by_operation AS FROM mira_costs_by_operation();
CREATE VIEW v_cost_by_task AS FROM mira_costs_by_task();
CREATE VIEW v_tool_usage AS FROM mira_tool_usage();

CREATE VIEW v_cache_hit_by_role AS
SELECT role, model,
       coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
       coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
       sum(cached_input_tokens)::DOUBLE / nullif(sum(input_tokens), 0) AS cache_hit_ratio
FROM llm_calls
GROUP BY role, model
ORDER BY role, model;

-- Executor calls against what the orchestrator would have charged for the same tokens.
CREATE VIEW v_routing_savings AS
SELECT operation_id,
       count(*) AS executor_calls,
       coalesce(sum(cost_total_usd), 0) AS executor_cost_usd,
       coalesce(sum(orchestrator_equivalent_usd), 0) AS orchestrator_equivalent_usd,
       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0) AS routing_savings_usd
FROM llm_calls
WHERE orchestrator_equivalent_usd IS NOT NULL
GROUP BY operation_id
ORDER BY operation_id;
